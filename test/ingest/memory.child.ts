// Child process of events-api-bounds.test.ts: a Steward (listening on a loopback port) whose heap
// the parent watches while it sends hostile bodies. Messages: 'start' (collect garbage, take the
// baseline, sample the heap every millisecond; answers { started }), 'stop' (answers
// { baseline, peak }), 'exit'.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, startSteward } from '../../src/server/index.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc || !process.send) throw new Error('run with --expose-gc and an IPC channel')
const send = process.send.bind(process)

const steward = await startSteward({
  config: loadConfig(
    {
      DATABASE_URL: process.env.DATABASE_URL,
      STEWARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'steward-memory-')),
      STEWARD_ADMIN_TOKEN: process.env.STEWARD_ADMIN_TOKEN,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    },
    { ingest: { heartbeatIntervalMs: 0, relay: { enabled: false } } },
  ),
  scheduler: false,
})

let baseline = 0
let peak = 0
let timer: NodeJS.Timeout | undefined
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed)
}
process.on('message', (m) => {
  if (m === 'start') {
    gc()
    baseline = process.memoryUsage().heapUsed
    peak = baseline
    timer = setInterval(sample, 1)
    send({ started: true })
  } else if (m === 'stop') {
    clearInterval(timer)
    sample()
    send({ baseline, peak })
  } else if (m === 'exit') void steward.stop().then(() => process.exit(0))
})
send({ url: steward.url })
