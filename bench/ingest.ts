// `npm run bench -- ingest [--quick] [--events N] [--rounds N] [--concurrency N]`
//
// Telemetry ingest throughput, side by side in one run on the same engines:
// - raw: `@clickhouse/client` inserts of the same rows straight into `events` (the reference);
// - http: POST /v1/events (JSON array, batches of 100 and 1,000, concurrent producers) until the
//   202, i.e. durable in the PostgreSQL outbox; with the 202 latency p50/p99;
// - relay: the outbox relay draining what HTTP wrote into ClickHouse, against raw inserts of the
//   relay's batch size;
// - otlp: POST /v1/otlp/v1/traces, binary protobuf bodies of 1,000 spans (half GenAI model calls,
//   each also a usage event), until the 200 (durable in the outbox), in spans/s; against raw inserts
//   of the rows the receiver makes of the same spans (otel_traces and the usage events).
// Each scenario runs `rounds` times (min/median/max). The HTTP producers are autocannon in a child
// process (bench/_load.ts), each body sent once; the latencies are the medians over rounds of
// each round's p50/p99. Figures last, as one JSON line.
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { startEmbeddedPostgres } from '../src/db/postgres.ts'
import { ingestConfigSchema } from '../src/ingest/config.ts'
import { OutboxRelay, type TelemetryEvent, toRow } from '../src/ingest/index.ts'
import { createLogger } from '../src/log.ts'
import { loadConfig, startSteward } from '../src/server/index.ts'
import { loadFromChild } from './_load.ts'
import { type SpanBatch, spanBatches } from './_otlp-spans.ts'

const ADMIN = 'bench-admin-token-0123456789'

interface Stats {
  min: number
  median: number
  max: number
}
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b)
  return {
    min: round(s[0]!),
    median: round(s[Math.floor((s.length - 1) / 2)]!),
    max: round(s[s.length - 1]!),
  }
}
const round = (x: number) => Math.round(x * 10) / 10
const ratio = (a: number, b: number) => Math.round((100 * a) / b) / 100

/** A realistic mix: run and job lifecycle, usage, API requests, heartbeats. */
function makeEvents(n: number): TelemetryEvent[] {
  const now = Date.now()
  const out: TelemetryEvent[] = []
  for (let i = 0; i < n; i++) {
    const base = {
      eventId: randomUUID(),
      ts: new Date(now - (n - i) * 10).toISOString(),
      customerId: `cust-${i % 20}`,
      projectId: `proj-${i % 7}`,
    }
    const runId = `run-${Math.floor(i / 5)}`
    switch (i % 5) {
      case 0:
        out.push({
          ...base,
          type: 'run',
          action: 'succeeded',
          runId,
          runType: 'build',
          durationMs: 1200 + (i % 300),
        })
        break
      case 1:
        out.push({
          ...base,
          type: 'job',
          action: 'succeeded',
          runId,
          runType: 'build',
          jobId: `job-${i}`,
          stepKey: 'compile',
          kind: 'simulate',
          pool: 'default',
          attempt: 1,
          workerId: 'w-1',
          durationMs: 300 + (i % 50),
        })
        break
      case 2:
        out.push({
          ...base,
          type: 'usage',
          runId,
          jobId: `job-${i - 1}`,
          runType: 'build',
          pool: 'default',
          model: 'model-a',
          inputTokens: 1000 + i,
          outputTokens: 200,
          cacheReadTokens: 400,
          cacheWriteTokens: 0,
          reasoningTokens: 50,
          operation: 'chat',
          provider: 'openai',
        })
        break
      case 3:
        out.push({
          ...base,
          type: 'api_request',
          route: '/v1/runs',
          method: 'POST',
          status: 201,
          durationMs: 4,
        })
        break
      default:
        out.push({
          ...base,
          type: 'heartbeat',
          instanceId: 'bench',
          component: 'worker',
          pool: 'default',
          healthy: true,
        })
    }
  }
  return out
}

const chunk = <T>(xs: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size))

/** Runs `jobs` with `concurrency` workers; returns the elapsed seconds. */
async function timed<T>(jobs: T[], concurrency: number, fn: (job: T) => Promise<void>): Promise<number> {
  const queue = [...jobs]
  const start = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let job = queue.shift(); job !== undefined; job = queue.shift()) await fn(job)
    }),
  )
  return (performance.now() - start) / 1000
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== 'ingest'),
    options: {
      quick: { type: 'boolean', default: false },
      events: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
    },
    allowPositionals: true,
  })
  const events = Number(values.events ?? (values.quick ? 3_000 : 10_000))
  const rounds = Number(values.rounds ?? (values.quick ? 1 : 3))
  const concurrency = Number(values.concurrency ?? 4)
  const dir = mkdtempSync(join(tmpdir(), 'steward-bench-ingest-'))
  const log = createLogger('error')
  const pg = await startEmbeddedPostgres(dir, log)
  const ingest = ingestConfigSchema.parse({ relay: { enabled: false }, heartbeatIntervalMs: 0 })
  const config = loadConfig(
    {
      DATABASE_URL: pg.url,
      STEWARD_DATA_DIR: dir,
      STEWARD_ADMIN_TOKEN: ADMIN,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
    },
    { ingest },
  )
  const steward = await startSteward({
    config,
    log,
    scheduler: false,
    modules: ['tenants', 'ingest'],
  })
  const ch = steward.deps.clickhouse!
  const relayBatch = ingestConfigSchema.parse({}).relay.batchSize
  const relay = new OutboxRelay({
    pool: steward.deps.pool,
    clickhouse: ch,
    config: { ...ingest.relay, enabled: true },
    log,
    instanceId: 'bench',
  })

  const rawInsert = (batch: TelemetryEvent[]) =>
    ch
      .insert({
        table: 'events',
        values: batch.map((e) => toRow(e)),
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: randomUUID() },
      })
      .then(() => {})

  // The receiver's rows of a batch of spans, inserted as the relay would: one insert per table.
  const rawSpans = async (batch: SpanBatch) => {
    for (const [table, values] of batch.rows)
      await ch.insert({
        table,
        values,
        format: 'JSONEachRow',
        clickhouse_settings: { insert_deduplication_token: randomUUID() },
      })
  }
  const OTLP_BATCH = 1000

  const rate: Record<string, number[]> = {}
  const latency: Record<string, number[]> = {
    p50_100: [],
    p99_100: [],
    p50_1000: [],
    p99_1000: [],
    p50_otlp: [],
    p99_otlp: [],
  }
  const SPANS = new Set(['raw_otlp', 'otlp_1000'])
  const record = (name: string, rows: number, seconds: number) => {
    rate[name] ??= []
    rate[name].push(rows / seconds)
    const unit = SPANS.has(name) ? 'spans/s' : 'rows/s'
    process.stdout.write(`${name.padEnd(12)} ${String(Math.round(rows / seconds)).padStart(8)} ${unit}\n`)
  }

  process.stdout.write(
    `ingest bench: ${events} events per scenario, ${rounds} round(s), ${concurrency} producers, ${availableParallelism()} cores\n`,
  )
  for (let r = 0; r < rounds; r++) {
    for (const size of [100, 1000]) {
      const raw = chunk(makeEvents(events), size)
      record(`raw_${size}`, events, await timed(raw, concurrency, rawInsert))

      const bodies = chunk(makeEvents(events), size).map((b) => JSON.stringify(b))
      const res = await loadFromChild({
        url: `${steward.url}/v1/events`,
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        bodies,
        // autocannon refuses more connections than requests (3 bodies of 1,000 with --quick).
        connections: Math.min(concurrency, bodies.length),
        amount: bodies.length,
      })
      if (res.non2xx || res.errors)
        throw new Error(`POST /v1/events: ${res.non2xx} non-2xx, ${res.errors} errors`)
      latency[`p50_${size}`]!.push(res.p50Ms)
      latency[`p99_${size}`]!.push(res.p99Ms)
      const seconds = res.seconds
      record(`http_${size}`, events, seconds)
    }
    // The relay drains what HTTP wrote (2 x events); the reference inserts as many rows in its batch size.
    const rawRelay = chunk(makeEvents(2 * events), relayBatch)
    record('raw_relay', 2 * events, await timed(rawRelay, 1, rawInsert))
    const t0 = performance.now()
    const shipped = await relay.drain()
    record('relay', shipped, (performance.now() - t0) / 1000)

    record(
      'raw_otlp',
      events,
      await timed(await spanBatches(events, OTLP_BATCH, ingest.http), concurrency, rawSpans),
    )
    const otlp = await spanBatches(events, OTLP_BATCH, ingest.http)
    const sent = await loadFromChild({
      url: `${steward.url}/v1/otlp/v1/traces`,
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-protobuf' },
      binaryBodies: otlp.map(({ body }) => Buffer.from(body).toString('base64')),
      connections: Math.min(concurrency, otlp.length),
      amount: otlp.length,
    })
    if (sent.non2xx || sent.errors)
      throw new Error(`POST /v1/otlp/v1/traces: ${sent.non2xx} non-2xx, ${sent.errors} errors`)
    latency.p50_otlp!.push(sent.p50Ms)
    latency.p99_otlp!.push(sent.p99Ms)
    const otlpSeconds = sent.seconds
    record('otlp_1000', events, otlpSeconds)
    // Drained outside the timings, so the next round's relay drains only what HTTP wrote.
    await relay.drain()
  }

  await steward.stop()
  await pg.stop()
  rmSync(dir, { recursive: true, force: true })

  const med = (k: string) => stats(rate[k]!).median
  const result = {
    bench: 'ingest',
    cores: availableParallelism(),
    events_per_scenario: events,
    rounds,
    concurrency,
    relay_batch_size: relayBatch,
    rows_per_s: Object.fromEntries(
      Object.keys(rate)
        .filter((k) => !SPANS.has(k))
        .map((k) => [k, stats(rate[k]!)]),
    ),
    spans_per_s: Object.fromEntries([...SPANS].map((k) => [k, stats(rate[k]!)])),
    latency_202_ms: {
      batch_100: { p50: stats(latency.p50_100!).median, p99: stats(latency.p99_100!).median },
      batch_1000: { p50: stats(latency.p50_1000!).median, p99: stats(latency.p99_1000!).median },
      otlp_1000: { p50: stats(latency.p50_otlp!).median, p99: stats(latency.p99_otlp!).median },
    },
    http_100_to_raw_ratio: ratio(med('http_100'), med('raw_100')),
    http_to_raw_ratio: ratio(med('http_1000'), med('raw_1000')),
    relay_to_raw_ratio: ratio(med('relay'), med('raw_relay')),
    goal_http_1000_at_least_half_raw: med('http_1000') >= med('raw_1000') / 2,
    otlp_to_raw_ratio: ratio(med('otlp_1000'), med('raw_otlp')),
    goal_otlp_at_least_half_raw: med('otlp_1000') >= med('raw_otlp') / 2,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}
