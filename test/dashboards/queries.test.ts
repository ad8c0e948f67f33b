// Every ClickHouse query of every dashboard, expanded as grafana-clickhouse-datasource expands it,
// runs against the real schema (chDB, all migrations) seeded with a known workload and returns the
// columns its panel expects. Figures are checked in figures.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickHousePanels, DASHBOARDS } from '../../src/dashboards/index.ts'
import type { ClickHouseClient } from '../../src/db/clickhouse.ts'
import { openSeededClickHouse, runPanelSql } from './harness.ts'

let ch: { client: ClickHouseClient; close(): Promise<void> }
beforeAll(async () => {
  ch = await openSeededClickHouse()
})
afterAll(async () => {
  await ch?.close()
})

const panels = Object.values(DASHBOARDS).flatMap((d) =>
  clickHousePanels(d).map(({ panel }) => ({ dashboard: d.title, panel })),
)

describe('every ClickHouse panel query', () => {
  it.each(panels.map((p) => [`${p.dashboard} › ${p.panel.title}`, p.panel] as const))(
    '%s returns its columns and data for the seeded workload',
    async (_name, panel) => {
      const res = await runPanelSql(ch.client, panel.sql)
      expect(res.columns).toEqual(panel.columns)
      expect(res.rows.length).toBeGreaterThan(0)
      if (panel.format === 'time_series') expect(res.columns[0]).toBe('time')
    },
  )

  it.each(panels.map((p) => [`${p.dashboard} › ${p.panel.title}`, p.panel] as const))(
    '%s also runs with several customers, a project, a run type and a pool selected',
    async (_name, panel) => {
      const res = await runPanelSql(ch.client, panel.sql, {
        variables: { customer: ['acme', 'globex'], project: ['web'], run_type: ['build'], pool: ['cpu'] },
        intervalSeconds: 86_400,
      })
      expect(res.columns).toEqual(panel.columns)
    },
  )
})

describe('dashboard variables', () => {
  const variables = Object.values(DASHBOARDS)[0]!.variables.flatMap((v) => (v.kind === 'query' ? [v] : []))

  it('lists the seeded customers, projects, run types and pools', async () => {
    const values = async (name: string, vars = {}) => {
      const v = variables.find((x) => x.name === name)!
      const res = await runPanelSql(ch.client, v.sql, { variables: vars })
      return res.rows.map((r) => Object.values(r)[0])
    }
    expect(await values('customer')).toEqual(['acme', 'globex'])
    expect(await values('project')).toEqual(['api', 'etl', 'web'])
    expect(await values('project', { customer: ['globex'] })).toEqual(['etl'])
    expect(await values('run_type')).toEqual(['build', 'review'])
    expect(await values('pool')).toEqual(['cpu', 'gpu'])
  })

  it('are the same customer / project / run type / pool set on every dashboard', () => {
    for (const d of Object.values(DASHBOARDS)) {
      expect(d.variables.slice(0, 4).map((v) => v.name)).toEqual(['customer', 'project', 'run_type', 'pool'])
    }
  })
})
