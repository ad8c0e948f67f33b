// RTO and RPO from what happened. Full recovery from the minute states (a 1-minute outage is about
// 60 s, not the 900 s an incident's open-to-resolve took); control-plane failover from the witness
// and the scheduler; run resume from its events; RPO unmeasured (never met) without a replica.
// Worker recovery against a real SIGKILLed `steward worker` process: within seconds of the real gap.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeMonth, type SlaContext } from '../../src/sla/index.ts'
import { monthOf } from '../../src/sla/months.ts'
import { currentRpo, recordRpoSamples } from '../../src/sla/rpo.ts'
import { recordQueueSample } from '../../src/sla/rto.ts'
import { customerDirectory } from '../../src/tenants/index.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'
import { createTestDatabaseUrl } from '../helpers/db.ts'
import { fastConfig, type Json, run, submit } from '../orchestrator/helpers.ts'
import {
  addCustomers,
  heartbeats,
  insertEvents,
  minuteOf,
  openSlaEnv,
  parseMonth,
  range,
  type SlaTestEnv,
  witnessSpan,
} from './golden.ts'

const rtoOf = (f: Awaited<ReturnType<typeof computeMonth>>, kind: string, customer = 0) =>
  f.customers[customer]!.rto.find((r) => r.kind === kind)!

describe('from the month of one installation', () => {
  let env: SlaTestEnv
  beforeAll(async () => {
    env = await openSlaEnv({ defaultPlan: { monthlyFee: 1000 } })
    await addCustomers(env.pool, ['acme'])
  })
  afterAll(async () => {
    await env?.close()
  })

  it('measures full recovery from the first down minute to the first up minute with the backlog drained', async () => {
    const june = parseMonth('2026-06')
    // A 1-minute outage at 10:00, a 5-minute one at 12:00, a 20-minute one at 14:00 whose queue
    // backlog (oldest ready job) takes until 14:25 to drain.
    const at = (iso: string) => minuteOf(june, `2026-06-01T${iso}:00Z`)
    await insertEvents(
      env.ch,
      heartbeats(june, new Set([at('10:00'), ...range(at('12:00'), 5), ...range(at('14:00'), 20)])),
    )
    for (const m of ['14:20', '14:21', '14:22', '14:23', '14:24'])
      await recordQueueSample(env.pool, new Date(`2026-06-01T${m}:30Z`), {
        readyJobs: 40,
        oldestReadySeconds: 300,
      })
    await recordQueueSample(env.pool, new Date('2026-06-01T14:25:10Z'), {
      readyJobs: 0,
      oldestReadySeconds: 0,
    })
    const f = await computeMonth(env, june, ['acme'])
    const full = rtoOf(f, 'full_recovery')
    expect(full).toMatchObject({ recoveries: 3, worstSeconds: 1500, withinTarget: 3, met: true })
    expect(full.p50Seconds).toBe(300)
    // The 1-minute outage: 60 s (an incident's open-to-resolve said 900 s).
    expect(full.breaches).toEqual([])
    const target = await computeMonth(
      {
        ...env,
        config: { ...env.config, rtoTargetsSeconds: { ...env.config.rtoTargetsSeconds, full_recovery: 200 } },
      },
      june,
      ['acme'],
    )
    expect(rtoOf(target, 'full_recovery').breaches).toEqual([
      {
        ref: 'downtime:2026-06-01T12:00:00.000Z',
        startedAt: '2026-06-01T12:00:00.000Z',
        recoveredAt: '2026-06-01T12:05:00.000Z',
        seconds: 300,
      },
      {
        ref: 'downtime:2026-06-01T14:00:00.000Z',
        startedAt: '2026-06-01T14:00:00.000Z',
        recoveredAt: '2026-06-01T14:25:00.000Z',
        seconds: 1500,
      },
    ])
  })

  it("measures control-plane failover from an instance's last beat to the scheduler's ticks on another", async () => {
    const july = parseMonth('2026-07')
    await insertEvents(env.ch, heartbeats(july))
    // cp-1 served until 09:00:05 and never again; cp-2 (running since 08:00) ticked at 09:00:40.
    await witnessSpan(env.pool, '2026-07-01T00:00:00Z', '2026-07-01T09:00:05Z', 'cp-1')
    await witnessSpan(env.pool, '2026-07-01T08:00:00Z', '2026-08-01T00:00:00Z', 'cp-2')
    await env.pool.query(
      `INSERT INTO scheduled_runs (job, scheduled_for, instance, started_at) VALUES
        ('incidents.evaluate', '2026-07-01T08:59:00Z', 'cp-1', '2026-07-01T08:59:00.2Z'),
        ('incidents.evaluate', '2026-07-01T09:00:00Z', 'cp-2', '2026-07-01T09:00:40Z')`,
    )
    const f = await computeMonth(env, july, ['acme'])
    expect(rtoOf(f, 'control_plane_failover')).toMatchObject({ recoveries: 1, worstSeconds: 35, met: true })
  })

  it('measures run resume from the request to the first job started', async () => {
    const aug = parseMonth('2026-08')
    await insertEvents(env.ch, [
      ...heartbeats(aug),
      { type: 'run', action: 'resumed', customerId: 'acme', runId: 'r-1', ts: '2026-08-03T10:00:00.000Z' },
      {
        type: 'job',
        action: 'started',
        customerId: 'acme',
        runId: 'r-1',
        jobId: 'j-1',
        stepKey: 's',
        kind: 'noop',
        pool: 'default',
        attempt: 2,
        workerId: 'w-1',
        ts: '2026-08-03T10:00:02.500Z',
      },
    ])
    const f = await computeMonth(env, aug, ['acme'])
    expect(rtoOf(f, 'run_resume')).toMatchObject({ recoveries: 1, worstSeconds: 2.5, met: true })
  })

  it('reports RPO unmeasured, never met, without a replica; telemetry freshness apart', async () => {
    const samples = await currentRpo(env.pool)
    expect(samples).toEqual([
      { source: 'postgres', lagSeconds: null },
      { source: 'telemetry', lagSeconds: 0 },
    ])
    await recordRpoSamples(env.pool, new Date('2026-09-02T00:00:00Z'), samples)
    await recordRpoSamples(env.pool, new Date('2026-09-02T00:05:00Z'), [
      { source: 'telemetry', lagSeconds: 90 },
    ])
    const sept = parseMonth('2026-09')
    await insertEvents(env.ch, heartbeats(sept))
    const acme = (await computeMonth(env, sept, ['acme'])).customers[0]!
    expect(acme.rpo).toEqual([
      {
        source: 'postgres',
        targetSeconds: 60,
        samples: 1,
        measuredSamples: 0,
        withinTarget: 0,
        worstSeconds: null,
        compliancePercent: null,
        status: 'unmeasured',
        met: null,
      },
    ])
    expect(acme.telemetryFreshness).toEqual({
      targetSeconds: 60,
      samples: 2,
      withinTarget: 1,
      worstSeconds: 90,
      compliancePercent: 50,
    })
    // A month with no sample at all: unmeasured too.
    const oct = (await computeMonth(env, parseMonth('2026-10'), ['acme'])).customers[0]!
    expect(oct.rpo.map((r) => [r.status, r.met])).toEqual([['unmeasured', null]])
  })
})

describe('a worker process killed mid-job', () => {
  let s: TestSteward
  let dbUrl: string
  let workerConfig: string
  const children: ChildProcess[] = []
  const timings = {
    leaseMs: 1_000,
    heartbeatMs: 200,
    pollMs: 200,
    reclaimEveryMs: 200,
    workerLostAfterMs: 2_000,
  }

  function startWorker(): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['bin/steward.js', 'worker', '--pool', 'default', '--concurrency', '1'],
      {
        cwd: join(import.meta.dirname, '..', '..'),
        env: { ...process.env, DATABASE_URL: dbUrl, STEWARD_CONFIG: workerConfig, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    return new Promise((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (d) => {
        out += d
        if (out.includes('serving pool')) resolve(child)
      })
      child.stderr!.on('data', (d) => (out += d))
      child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)))
    })
  }

  beforeAll(async () => {
    dbUrl = await createTestDatabaseUrl()
    const dir = mkdtempSync(join(tmpdir(), 'steward-rto-'))
    workerConfig = join(dir, 'worker.json')
    writeFileSync(workerConfig, JSON.stringify({ orchestrator: { ...timings, shutdownGraceMs: 1_000 } }))
    s = await startTestSteward({
      databaseUrl: dbUrl,
      file: { orchestrator: fastConfig({ ...timings, workers: 0 }) },
    })
    expect((await s.api('POST', '/v1/customers', { id: 'acme', name: 'Acme' })).status).toBe(201)
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await s?.stop()
  })

  it('records worker recovery from the loss to the job running again elsewhere, within seconds of the real gap', async () => {
    const a = await startWorker()
    const id = await submit(s, run([{ key: 'wait', kind: 'sleep', input: { ms: 60_000 } }]))
    const job = async () => ((await (await s.api('GET', `/v1/runs/${id}`)).json()) as Json).steps[0]
    await expect.poll(async () => (await job()).attempts.length, { timeout: 20_000 }).toBe(1)
    await startWorker()
    const killedAt = Date.now()
    a.kill('SIGKILL')
    await expect.poll(async () => (await job()).attempts.length, { timeout: 20_000, interval: 100 }).toBe(2)
    const second = (await job()).attempts[1]
    const realGap = (Date.parse(second.startedAt) - killedAt) / 1000
    const ctx: SlaContext = {
      pool: s.deps.pool,
      ch: s.deps.clickhouse!,
      config: s.deps.config.sla,
      prices: s.deps.config.prices,
      tenants: customerDirectory(s.deps.pool),
    }
    const month = monthOf(new Date())
    const measured = async () => (await computeMonth(ctx, month, ['acme'])).customers[0]!.rto
    await expect
      .poll(async () => (await measured()).find((r) => r.kind === 'worker_recovery')!.recoveries, {
        timeout: 30_000,
        interval: 500,
      })
      .toBe(1)
    const worker = (await measured()).find((r) => r.kind === 'worker_recovery')!
    // From the worker's last heartbeat (at most heartbeatMs before the kill) to the restart.
    expect(worker.worstSeconds!).toBeGreaterThanOrEqual(realGap - 0.05)
    expect(worker.worstSeconds!).toBeLessThanOrEqual(realGap + timings.heartbeatMs / 1000 + 0.5)
  })
})
