// Writes grafana/dashboards/*.json from the typed specs in src/dashboards, and the panel catalogue
// of grafana/README.md (npm run gen:dashboards).
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderDashboardCatalog, renderDashboardFiles, withCatalog } from '../src/dashboards/index.ts'

const grafana = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana')
for (const [file, text] of Object.entries(renderDashboardFiles())) {
  await writeFile(join(grafana, 'dashboards', file), text)
  process.stdout.write(`wrote grafana/dashboards/${file}\n`)
}
const readme = join(grafana, 'README.md')
await writeFile(readme, withCatalog(await readFile(readme, 'utf8'), renderDashboardCatalog()))
process.stdout.write('updated the panel catalogue of grafana/README.md\n')
