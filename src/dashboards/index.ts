// Steward's Grafana dashboards, generated from typed specs (npm run gen:dashboards writes
// grafana/dashboards/*.json; test/dashboards fails when the checked-in JSON drifts).
import { type DashboardSpec, renderDashboard } from './builder.ts'
import { renderCatalog } from './catalog.ts'
import { costDashboard } from './cost.ts'
import { performanceDashboard } from './performance.ts'
import { reliabilityDashboard } from './reliability.ts'
import { runsDashboard } from './runs.ts'
import { slaDashboard } from './sla.ts'

export type { ClickHousePanel, DashboardSpec } from './builder.ts'
export { clickHousePanels, isRow, STEWARD_TAG } from './builder.ts'
export { withCatalog } from './catalog.ts'
export { METRIC_CONTRACT } from './contracts.ts'

/** File name (in grafana/dashboards/) → dashboard spec. */
export const DASHBOARDS: Readonly<Record<string, DashboardSpec>> = {
  'runs.json': runsDashboard,
  'cost.json': costDashboard,
  'performance.json': performanceDashboard,
  'reliability.json': reliabilityDashboard,
  'sla.json': slaDashboard,
}

/** The exact text of each dashboard file. */
export function renderDashboardFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(DASHBOARDS).map(([file, spec]) => [
      file,
      `${JSON.stringify(renderDashboard(spec), null, 2)}\n`,
    ]),
  )
}

/** The generated panel catalogue of grafana/README.md. */
export function renderDashboardCatalog(): string {
  return renderCatalog(DASHBOARDS)
}
