// What the SLA engine's functions work with: the platform's connections, the sla config section,
// and the services of the modules below it (the price list, the customers). The module builds it
// from what the composition root hands it; the report CLI and the tests build their own.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import type { PriceList } from '../pricing/index.ts'
import type { CustomerDirectory } from '../tenants/index.ts'
import type { SlaConfig } from './config.ts'

export interface SlaContext {
  pool: Pool
  ch: ClickHouseClient
  config: SlaConfig
  /** The pricing module's price list (a month's cost). */
  prices: PriceList
  /** The tenants module's customers (tenants owns the table; the SLA engine never queries it). */
  tenants: CustomerDirectory
  log?: Logger
}
