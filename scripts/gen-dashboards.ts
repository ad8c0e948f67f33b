// Writes grafana/dashboards/*.json from the typed specs in src/dashboards (npm run gen:dashboards).
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderDashboardFiles } from '../src/dashboards/index.ts'

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'grafana', 'dashboards')
for (const [file, text] of Object.entries(renderDashboardFiles())) {
  await writeFile(join(dir, file), text)
  console.log(`wrote grafana/dashboards/${file}`)
}
