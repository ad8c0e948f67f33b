// The ClickHouse HTTP interface over the embedded store (/clickhouse): Grafana's ClickHouse plugin
// reads Steward's telemetry through it when Steward runs on chDB (docs/telemetry.md,
// grafana/README.md).
import { chQuery } from '../db/clickhouse.ts'
import { defineModule, type StewardModule } from '../module.ts'
import { clickhouseHttpConfigSchema } from './config.ts'
import { clickHouseHttpRoutes } from './routes.ts'

export interface ClickHouseHttpUses {
  /** The embedded store's directory; undefined when Steward talks to a ClickHouse server. */
  embeddedPath: string | undefined
  /** Passwords of user `steward`: the admin token and the read-only Grafana token. */
  passwords: string[]
}

// The section nests under the config file's `clickhouse` section, as `clickhouse.http`.
export const createClickHouseHttp = defineModule(
  'http',
  clickhouseHttpConfigSchema.prefault({}),
  (deps, uses: ClickHouseHttpUses): StewardModule => {
    let version: Promise<string> | undefined
    return {
      name: 'clickhouse-http',
      publicRoutes: clickHouseHttpRoutes({
        embeddedPath: uses.embeddedPath,
        config: deps.config,
        passwords: async () => uses.passwords,
        version: () => {
          version ??= chQuery<{ v: string }>(deps.clickhouse!, 'SELECT version() AS v').then(
            (r) => r[0]!.v,
            () => 'unknown',
          )
          return version
        },
      }),
    }
  },
)
