// A small typed builder for Grafana dashboards: specs in, dashboard JSON (schemaVersion 39) out.
// Panels flow left to right on Grafana's 24-column grid; ids are assigned in order, so the output
// is deterministic and the checked-in JSON can be compared with a fresh render.
import { CLICKHOUSE, type DatasourceRef, PROMETHEUS } from './datasources.ts'

export type PanelType = 'stat' | 'timeseries' | 'table' | 'barchart' | 'piechart' | 'bargauge'

interface PanelCommon {
  title: string
  description: string
  type: PanelType
  /** Grafana unit id of the value fields (percentunit, ms, s, short, ops, none, ...). */
  unit?: string
  decimals?: number
  /** Width on the 24-column grid (default 12) and height in grid rows (default 8). */
  w?: number
  h?: number
  /** Stacked bars: a time series drawn as stacked bars (volume panels), a bar chart's series stacked. */
  bars?: boolean
  /** Red/green step at this value for stat panels: below is red (higherIsBetter) or green. */
  threshold?: { value: number; higherIsBetter: boolean }
}

/** A panel reading ClickHouse through grafana-clickhouse-datasource with one raw SQL target. */
export interface ClickHousePanel extends PanelCommon {
  source: 'clickhouse'
  sql: string
  format: 'table' | 'time_series'
  /** The columns the query returns, in order (checked by the dashboard tests). */
  columns: readonly string[]
}

/** A panel reading Steward's Prometheus metrics (names from the metrics contract). */
export interface PrometheusPanel extends PanelCommon {
  source: 'prometheus'
  queries: readonly { expr: string; legend: string }[]
}

export interface RowSpec {
  row: string
}

export type PanelSpec = ClickHousePanel | PrometheusPanel | RowSpec

export interface QueryVariable {
  kind: 'query'
  name: string
  label: string
  sql: string
  /** Value that Prometheus queries receive for "All" (ClickHouse queries use $__conditionalAll). */
  allValue?: string
}

export interface CustomVariable {
  kind: 'custom'
  name: string
  label: string
  options: readonly string[]
  current: string
}

export type VariableSpec = QueryVariable | CustomVariable

export interface DashboardSpec {
  uid: string
  title: string
  description: string
  /** Relative range shown on open, e.g. 'now-7d'. */
  from: string
  variables: readonly VariableSpec[]
  panels: readonly PanelSpec[]
}

/** Tag shared by every Steward dashboard; the dashboard links list all dashboards with it. */
export const STEWARD_TAG = 'steward'

const GRID_WIDTH = 24

export function isRow(p: PanelSpec): p is RowSpec {
  return 'row' in p
}

function fieldConfig(p: PanelCommon): Record<string, unknown> {
  const defaults: Record<string, unknown> = { unit: p.unit ?? 'short' }
  if (p.decimals !== undefined) defaults.decimals = p.decimals
  if (p.threshold) {
    const [below, above] = p.threshold.higherIsBetter ? ['red', 'green'] : ['green', 'red']
    defaults.thresholds = {
      mode: 'absolute',
      steps: [
        { color: below, value: null },
        { color: above, value: p.threshold.value },
      ],
    }
    defaults.color = { mode: 'thresholds' }
  }
  if (p.bars && p.type === 'timeseries') {
    defaults.custom = { drawStyle: 'bars', fillOpacity: 80, stacking: { mode: 'normal', group: 'A' } }
  }
  return { defaults, overrides: [] }
}

function options(p: PanelCommon): Record<string, unknown> {
  switch (p.type) {
    case 'stat':
      return {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: p.threshold ? 'background' : 'value',
        graphMode: 'none',
        textMode: 'auto',
      }
    case 'table':
      return { showHeader: true, cellHeight: 'sm' }
    case 'barchart':
      // The first text column (a customer, a month) is the x axis: one group of bars per value.
      return {
        orientation: 'auto',
        stacking: p.bars ? 'normal' : 'none',
        showValue: 'auto',
        groupWidth: 0.7,
        barWidth: 0.97,
        legend: { displayMode: 'list', placement: 'bottom' },
        tooltip: { mode: 'multi' },
      }
    case 'piechart':
      return { reduceOptions: { calcs: ['sum'], fields: '', values: true }, legend: { displayMode: 'table' } }
    default:
      return { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } }
  }
}

function targets(p: ClickHousePanel | PrometheusPanel, ds: DatasourceRef): Record<string, unknown>[] {
  if (p.source === 'clickhouse') {
    return [
      {
        refId: 'A',
        datasource: ds,
        editorType: 'sql',
        format: p.format === 'table' ? 1 : 0,
        queryType: p.format === 'table' ? 'table' : 'timeseries',
        rawSql: p.sql,
      },
    ]
  }
  return p.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: ds,
    expr: q.expr,
    legendFormat: q.legend,
    range: true,
  }))
}

function variableJson(v: VariableSpec): Record<string, unknown> {
  if (v.kind === 'custom') {
    return {
      type: 'custom',
      name: v.name,
      label: v.label,
      query: v.options.join(','),
      current: { text: v.current, value: v.current },
      options: v.options.map((o) => ({ text: o, value: o, selected: o === v.current })),
      multi: false,
      includeAll: false,
      hide: 0,
    }
  }
  return {
    type: 'query',
    name: v.name,
    label: v.label,
    datasource: CLICKHOUSE,
    query: v.sql,
    definition: v.sql,
    refresh: 2, // on time range change
    multi: true,
    includeAll: true,
    allValue: v.allValue ?? null,
    current: { text: ['All'], value: ['$__all'] },
    options: [],
    sort: 1,
    hide: 0,
  }
}

/** Renders a dashboard spec to Grafana's dashboard JSON model. */
export function renderDashboard(spec: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = []
  let x = 0
  let y = 0
  let rowHeight = 0
  let id = 1
  for (const p of spec.panels) {
    if (isRow(p)) {
      y += rowHeight
      panels.push({
        id: id++,
        type: 'row',
        title: p.row,
        collapsed: false,
        gridPos: { h: 1, w: GRID_WIDTH, x: 0, y },
        panels: [],
      })
      x = 0
      y += 1
      rowHeight = 0
      continue
    }
    const w = p.w ?? 12
    const h = p.h ?? 8
    if (x + w > GRID_WIDTH) {
      x = 0
      y += rowHeight
      rowHeight = 0
    }
    const ds = p.source === 'clickhouse' ? CLICKHOUSE : PROMETHEUS
    panels.push({
      id: id++,
      type: p.type,
      title: p.title,
      description: p.description,
      gridPos: { h, w, x, y },
      datasource: ds,
      targets: targets(p, ds),
      fieldConfig: fieldConfig(p),
      options: options(p),
    })
    x += w
    rowHeight = Math.max(rowHeight, h)
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [STEWARD_TAG],
    timezone: 'utc',
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: spec.from, to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: { list: [] },
    links: [
      {
        title: 'Steward dashboards',
        type: 'dashboards',
        tags: [STEWARD_TAG],
        asDropdown: false,
        includeVars: true,
        keepTime: true,
        targetBlank: false,
        icon: 'external link',
        tooltip: '',
        url: '',
      },
    ],
    templating: { list: spec.variables.map(variableJson) },
    panels,
  }
}

/** Every ClickHouse panel of a spec with the id it gets in the rendered JSON. */
export function clickHousePanels(spec: DashboardSpec): { id: number; panel: ClickHousePanel }[] {
  return spec.panels.flatMap((p, i) =>
    !isRow(p) && p.source === 'clickhouse' ? [{ id: i + 1, panel: p }] : [],
  )
}
