// `steward report sla-credits --month YYYY-MM [--customer ID] [--format json|csv|html] [--out FILE]`
// and `steward report costs --month YYYY-MM [--format json|csv|html] [--out FILE]` (docs/cost.md).
// Talks to a running `serve` at config.stewardUrl when one answers (chDB binds one data directory
// per process, so a second process must not open it); opens the engines itself only when none does.
import { existsSync, readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, type PlatformConfig } from '../config.ts'
import { openClickHouse } from '../db/clickhouse.ts'
import { migrate } from '../db/migrate.ts'
import { openPostgres } from '../db/postgres.ts'
import { createLogger } from '../log.ts'
import type { PriceList } from '../pricing/index.ts'
import { type CustomerSettings, customerDirectory } from '../tenants/index.ts'
import type { SlaConfig } from './config.ts'
import { renderCostCsv, renderCostHtml } from './cost-render.ts'
import { buildCostReport } from './costs.ts'
import { syncConfigMaintenance } from './maintenance.ts'
import { isMonthKey, parseMonth } from './months.ts'
import { buildCreditReport, renderCsv, renderHtml } from './report.ts'

/** A command-line mistake: reported as a message (exit 2), like every ConfigError. */
export class ReportUsageError extends ConfigError {
  override name = 'UsageError'
}

/** What the report needs of the configuration: the platform, the SLA section, the prices and the customers' defaults. */
type ReportConfig = PlatformConfig & {
  sla: SlaConfig
  prices: PriceList
  tenants: { defaults: CustomerSettings }
  clickhouse: { cluster?: string | undefined }
}

const USAGE =
  'usage: steward report sla-credits --month YYYY-MM [--customer ID] [--format json|csv|html] [--out FILE]\n' +
  '       steward report costs --month YYYY-MM [--format json|csv|html] [--out FILE]'
const reports = ['sla-credits', 'costs'] as const
const formats = ['json', 'csv', 'html'] as const
type Format = (typeof formats)[number]

interface ReportArgs {
  report: (typeof reports)[number]
  month: string
  customer?: string
  format: Format
  out?: string
}

export function parseReportArgs(args: string[]): ReportArgs {
  const [what, ...rest] = args
  const report = reports.find((r) => r === what)
  if (!report) throw new ReportUsageError(`unknown report "${what ?? ''}"\n${USAGE}`)
  let values: { month?: string; customer?: string; format?: string; out?: string }
  try {
    values = parseArgs({
      args: rest,
      options: {
        month: { type: 'string' },
        customer: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
      },
    }).values
  } catch (err) {
    throw new ReportUsageError(`${(err as Error).message}\n${USAGE}`)
  }
  if (!values.month || !isMonthKey(values.month))
    throw new ReportUsageError(`--month must be YYYY-MM\n${USAGE}`)
  if (report === 'costs' && values.customer !== undefined)
    throw new ReportUsageError(`the costs report lists every customer: --customer does not apply\n${USAGE}`)
  const format = (values.format ?? 'json') as Format
  if (!formats.includes(format)) throw new ReportUsageError(`--format must be one of ${formats.join(', ')}`)
  return { report, month: values.month, customer: values.customer, format, out: values.out }
}

function adminToken(config: ReportConfig): string | undefined {
  if (config.adminToken) return config.adminToken
  const file = join(config.dataDir, 'admin-token')
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

/** The report from a running serve, or undefined when none answers at config.stewardUrl. */
async function fromServe(config: ReportConfig, a: ReportArgs): Promise<string | undefined> {
  const base = config.stewardUrl.replace(/\/$/, '')
  try {
    const health = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) })
    if (!health.ok) return undefined
  } catch {
    return undefined
  }
  const token = adminToken(config)
  if (!token) throw new ReportUsageError(`a steward answers at ${base} but no admin token is configured`)
  const q = new URLSearchParams({ month: a.month, format: a.format })
  if (a.customer) q.set('customerId', a.customer)
  const path = a.report === 'costs' ? '/v1/costs' : '/v1/sla/credits'
  const res = await fetch(`${base}${path}?${q}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(120_000),
  })
  const body = await res.text()
  if (!res.ok) {
    let detail = body
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail ?? body
    } catch {}
    throw new ReportUsageError(`steward at ${base} refused the report (${res.status}): ${detail}`)
  }
  return body
}

async function fromEngines(config: ReportConfig, a: ReportArgs): Promise<string> {
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
  const pg = await openPostgres({ url: config.databaseUrl, dataDir: config.dataDir, log })
  try {
    const ch = await openClickHouse({
      url: config.clickhouseUrl,
      path: config.clickhouseDir,
      cluster: config.clickhouse.cluster,
    })
    try {
      await migrate({ pool: pg.pool, clickhouse: ch.client, log })
      const ctx = {
        pool: pg.pool,
        ch: ch.client,
        config: config.sla,
        prices: config.prices,
        tenants: customerDirectory(pg.pool, config.tenants.defaults),
        log,
      }
      // As serve does at start: the config file's maintenance windows, judged when first seen.
      await syncConfigMaintenance(ctx)
      const month = parseMonth(a.month)
      if (a.report === 'costs') {
        const report = await buildCostReport(ctx, month)
        if (a.format === 'csv') return renderCostCsv(report)
        if (a.format === 'html') return renderCostHtml(report)
        return `${JSON.stringify(report, null, 2)}\n`
      }
      const report = await buildCreditReport(ctx, month, a.customer)
      if (a.format === 'csv') return renderCsv(report)
      if (a.format === 'html') return renderHtml(report)
      return `${JSON.stringify(report, null, 2)}\n`
    } finally {
      await ch.close()
    }
  } finally {
    await pg.close()
  }
}

export async function reportCommand(args: string[], config: ReportConfig): Promise<void> {
  const a = parseReportArgs(args)
  const body = (await fromServe(config, a)) ?? (await fromEngines(config, a))
  if (a.out) {
    await writeFile(a.out, body)
    process.stderr.write(`wrote ${a.out}\n`)
  } else process.stdout.write(body)
}
