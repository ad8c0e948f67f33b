// The checked-in dashboard JSON is what the generator writes, follows Grafana's dashboard model,
// references only provisioned datasources, links the dashboards together, and names only
// Prometheus metrics of the metrics contract.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { HISTOGRAM_SUFFIXES } from '../../src/dashboards/contracts.ts'
import {
  DASHBOARDS,
  isRow,
  METRIC_CONTRACT,
  renderDashboardCatalog,
  renderDashboardFiles,
  STEWARD_TAG,
  withCatalog,
} from '../../src/dashboards/index.ts'

const root = join(import.meta.dirname, '..', '..', 'grafana')
const files = renderDashboardFiles()
const checkedIn = Object.fromEntries(
  readdirSync(join(root, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, readFileSync(join(root, 'dashboards', f), 'utf8')]),
)

const datasourceRef = z.object({ type: z.string().min(1), uid: z.string().min(1) }).strict()
const gridPos = z
  .object({
    h: z.number().int().positive(),
    w: z.number().int().min(1).max(24),
    x: z.number().int().min(0).max(23),
    y: z.number().int().min(0),
  })
  .strict()
  .refine((g) => g.x + g.w <= 24, 'panel must fit the 24-column grid')
const clickHouseTarget = z.object({
  refId: z.string().min(1),
  datasource: datasourceRef,
  editorType: z.literal('sql'),
  format: z.union([z.literal(0), z.literal(1)]),
  queryType: z.enum(['timeseries', 'table']),
  rawSql: z.string().min(1),
})
const prometheusTarget = z.object({
  refId: z.string().min(1),
  datasource: datasourceRef,
  expr: z.string().min(1),
  legendFormat: z.string(),
})
const panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(['stat', 'timeseries', 'table', 'barchart', 'piechart', 'bargauge']),
  title: z.string().min(1),
  description: z.string().min(1),
  gridPos,
  datasource: datasourceRef,
  targets: z.array(z.union([clickHouseTarget, prometheusTarget])).min(1),
  fieldConfig: z.object({ defaults: z.record(z.string(), z.unknown()), overrides: z.array(z.unknown()) }),
  options: z.record(z.string(), z.unknown()),
})
const row = z.object({
  id: z.number().int().positive(),
  type: z.literal('row'),
  title: z.string().min(1),
  gridPos,
  collapsed: z.boolean(),
  panels: z.array(z.unknown()),
})
const variable = z.object({
  type: z.enum(['query', 'custom']),
  name: z.string().regex(/^\w+$/),
  label: z.string().min(1),
  query: z.string().min(1),
  current: z.object({ text: z.unknown(), value: z.unknown() }),
  multi: z.boolean(),
  includeAll: z.boolean(),
  hide: z.number(),
})
const dashboardModel = z.object({
  uid: z.string().regex(/^[\w-]{1,40}$/),
  title: z.string().min(1),
  tags: z.array(z.string()),
  timezone: z.string(),
  editable: z.boolean(),
  schemaVersion: z.number().int().min(36),
  version: z.number().int(),
  refresh: z.string(),
  time: z.object({ from: z.string(), to: z.string() }),
  annotations: z.object({ list: z.array(z.unknown()) }),
  links: z
    .array(
      z.object({
        title: z.string(),
        type: z.enum(['dashboards', 'link']),
        tags: z.array(z.string()),
        asDropdown: z.boolean(),
        includeVars: z.boolean(),
        keepTime: z.boolean(),
      }),
    )
    .min(1),
  templating: z.object({ list: z.array(variable) }),
  panels: z.array(z.union([row, panel])).min(1),
})

// Grafana datasource provisioning (apiVersion 1); values may be ${ENV} references Grafana fills in.
const envRef = z.string().regex(/^\$\{[A-Z_]+\}$/)
const clickHouseDatasource = z
  .object({
    name: z.string().min(1),
    uid: z.literal('steward-clickhouse'),
    type: z.literal('grafana-clickhouse-datasource'),
    editable: z.literal(false),
    jsonData: z
      .object({
        host: z.string().min(1),
        port: z.union([z.number().int(), envRef]),
        protocol: z.union([z.enum(['http', 'native']), envRef]),
        path: z.string().startsWith('/').optional(),
        secure: z.boolean(),
        username: z.string().min(1),
        defaultDatabase: z.string().min(1),
      })
      .strict(),
    secureJsonData: z.object({ password: envRef }).strict(),
  })
  .strict()
const prometheusDatasource = z
  .object({
    name: z.string().min(1),
    uid: z.literal('steward-prometheus'),
    type: z.literal('prometheus'),
    access: z.literal('proxy'),
    url: z.string().min(1),
    editable: z.literal(false),
    jsonData: z.object({ timeInterval: z.string() }).strict(),
  })
  .strict()
const datasourceFile = z
  .object({
    apiVersion: z.literal(1),
    datasources: z.tuple([clickHouseDatasource, prometheusDatasource]),
  })
  .strict()
const DATASOURCE_FILES = ['datasources', 'datasources-embedded'].map((dir) =>
  join(root, 'provisioning', dir, 'steward.yaml'),
)
const readDatasources = (file: string) => datasourceFile.parse(parseYaml(readFileSync(file, 'utf8')))

function provisionedUids(file = DATASOURCE_FILES[0]!): Map<string, string> {
  return new Map(readDatasources(file).datasources.map((d) => [d.uid, d.type]))
}

describe('generated dashboards', () => {
  it('are checked in exactly as the generator writes them (run npm run gen:dashboards)', () => {
    expect(Object.keys(checkedIn).sort()).toEqual(Object.keys(files).sort())
    for (const [file, text] of Object.entries(files)) expect(checkedIn[file], file).toBe(text)
  })

  it('are described panel by panel in grafana/README.md as the generator writes it', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(readme).toBe(withCatalog(readme, renderDashboardCatalog()))
    for (const spec of Object.values(DASHBOARDS)) expect(readme).toContain(spec.title)
  })

  it('ship the docker-compose files the README shows, one per mode', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const snippets = [...readme.matchAll(/```yaml\n(services:[\s\S]*?)```/g)].map((m) => m[1])
    const files = ['docker-compose.yml', 'docker-compose.embedded.yml'].map((f) =>
      readFileSync(join(root, f), 'utf8').replace(/^#.*\n/gm, ''),
    )
    expect(snippets).toEqual(files)
  })

  it.each(DATASOURCE_FILES.map((f) => [f.split('/provisioning/')[1]!, f]))(
    '%s is a valid datasource provisioning file with the UIDs the dashboards use',
    (_name, file) => {
      const parsed = datasourceFile.safeParse(parseYaml(readFileSync(file, 'utf8')))
      expect(parsed.success ? [] : parsed.error.issues).toEqual([])
      expect(provisionedUids(file)).toEqual(provisionedUids())
    },
  )

  it("points the embedded mode at Steward's /clickhouse over HTTP as user steward", () => {
    const [clickhouse] = readDatasources(DATASOURCE_FILES[1]!).datasources
    expect(clickhouse.jsonData).toMatchObject({ protocol: 'http', path: '/clickhouse', username: 'steward' })
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${VAR} provisioning syntax
    expect(clickhouse.secureJsonData.password).toBe('${STEWARD_GRAFANA_TOKEN}')
  })

  it.each(Object.keys(files))('%s follows the Grafana dashboard model', (file) => {
    const json = JSON.parse(files[file]!)
    const parsed = dashboardModel.safeParse(json)
    expect(parsed.success ? [] : parsed.error.issues).toEqual([])
    const ids = json.panels.map((p: { id: number }) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('have unique uids and link to each other through the shared tag, keeping time and variables', () => {
    const dashboards = Object.values(files).map((t) => JSON.parse(t))
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(5)
    for (const d of dashboards) {
      expect(d.tags).toContain(STEWARD_TAG)
      expect(d.links).toContainEqual(
        expect.objectContaining({
          type: 'dashboards',
          tags: [STEWARD_TAG],
          includeVars: true,
          keepTime: true,
        }),
      )
      expect(d.templating.list.map((v: { name: string }) => v.name)).toEqual(
        expect.arrayContaining(['customer', 'project', 'run_type', 'pool']),
      )
    }
  })

  it('reference only datasources provisioned with that uid and type', () => {
    const uids = provisionedUids()
    expect(uids.size).toBe(2)
    for (const text of Object.values(files)) {
      const json = JSON.parse(text)
      const refs = [
        ...json.panels.flatMap((p: { datasource?: unknown; targets?: { datasource: unknown }[] }) => [
          ...(p.datasource ? [p.datasource] : []),
          ...(p.targets ?? []).map((t) => t.datasource),
        ]),
        ...json.templating.list.flatMap((v: { datasource?: unknown }) =>
          v.datasource ? [v.datasource] : [],
        ),
      ] as { uid: string; type: string }[]
      expect(refs.length).toBeGreaterThan(0)
      for (const ref of refs) expect(uids.get(ref.uid), JSON.stringify(ref)).toBe(ref.type)
    }
  })

  it('name only Prometheus metrics of the metrics contract', () => {
    const contract = new Set<string>(METRIC_CONTRACT)
    const named = new Set<string>()
    for (const spec of Object.values(DASHBOARDS)) {
      for (const p of spec.panels) {
        if (isRow(p) || p.source !== 'prometheus') continue
        for (const q of p.queries) for (const m of q.expr.matchAll(/\bsteward_\w+/g)) named.add(m[0])
      }
    }
    const base = (m: string) =>
      HISTOGRAM_SUFFIXES.reduce((n, s) => (n.endsWith(s) ? n.slice(0, -s.length) : n), m)
    expect([...named].filter((m) => !contract.has(m) && !contract.has(base(m)))).toEqual([])
    expect(named.size).toBeGreaterThan(10)
  })

  it('use only variables the dashboard defines', () => {
    for (const spec of Object.values(DASHBOARDS)) {
      const defined = new Set(spec.variables.map((v) => v.name))
      const texts = spec.panels.flatMap((p) =>
        isRow(p) ? [] : p.source === 'clickhouse' ? [p.sql] : p.queries.map((q) => q.expr),
      )
      for (const text of texts) {
        for (const m of text.matchAll(/\$(\w+)/g)) {
          if (!m[1]!.startsWith('__')) expect(defined, `${spec.uid}: $${m[1]}`).toContain(m[1])
        }
      }
    }
  })
})
