// The ClickHouse HTTP interface over the embedded store (/clickhouse): Grafana's ClickHouse plugin
// reads Steward's telemetry through it when Steward runs on chDB (docs/telemetry.md,
// grafana/README.md).
import { chQuery } from '../db/clickhouse.ts'
import { ensureAdminToken } from '../http/admin-token.ts'
import type { AppDeps, StewardModule } from '../module.ts'
import { clickHouseHttpRoutes } from './routes.ts'

export { type ClickHouseHttpConfig, clickhouseHttpConfigSchema } from './config.ts'
export { nativeForRevision } from './native.ts'

export function createClickHouseHttp(deps: AppDeps): StewardModule {
  const { config } = deps
  let version: Promise<string> | undefined
  let adminToken: Promise<string> | undefined
  return {
    name: 'clickhouse-http',
    publicRoutes: clickHouseHttpRoutes({
      embeddedPath: config.clickhouseUrl || !deps.clickhouse ? undefined : config.clickhouseDir,
      config: config.clickhouse.http,
      // serve has already written the admin token (given or generated) before modules start.
      passwords: async () => {
        adminToken ??= ensureAdminToken(config.adminToken, config.dataDir, () => {})
        return [await adminToken, ...(config.grafanaToken ? [config.grafanaToken] : [])]
      },
      version: () => {
        version ??= chQuery<{ v: string }>(deps.clickhouse!, 'SELECT version() AS v').then(
          (r) => r[0]!.v,
          () => 'unknown',
        )
        return version
      },
    }),
  }
}
