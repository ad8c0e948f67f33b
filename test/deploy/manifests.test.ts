// The Kubernetes manifests in deploy/ parse, run commands Steward has, probe routes it serves,
// and scale on a metric and a query that exist.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { envSchema } from '../../src/config.ts'
import { startTestSteward, type TestSteward } from '../helpers/app.ts'

interface Probe {
  httpGet: { path: string }
}
interface Container {
  args: string[]
  env: { name: string }[]
  readinessProbe?: Probe
  livenessProbe?: Probe
  startupProbe?: Probe
}
interface Trigger {
  type: string
  metadata: { query: string }
}
/** The fields of the manifests these tests read. */
interface Doc {
  apiVersion: string
  kind: string
  metadata: { name: string }
  spec: {
    replicas?: number
    template: { spec: { containers: Container[] } }
    minReplicaCount?: number
    scaleTargetRef: { name: string }
    triggers: Trigger[]
  }
}

const dir = join(import.meta.dirname, '../../deploy/kubernetes')
const docs: Doc[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
      if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`)
      return d.toJS() as Doc
    }),
  )
const byKind = (kind: string) => docs.filter((d) => d.kind === kind)
const containers = byKind('Deployment').flatMap((d) => d.spec.template.spec.containers)

let s: TestSteward
beforeAll(async () => {
  s = await startTestSteward()
})
afterAll(async () => {
  await s?.stop()
})

describe('deploy/kubernetes', () => {
  it('holds a control plane of 2+ replicas and worker pools KEDA may scale to zero', () => {
    const control = byKind('Deployment').find((d) => d.spec.template.spec.containers[0]?.args[0] === 'serve')!
    expect(control.spec.replicas).toBeGreaterThanOrEqual(2)
    const scaled = byKind('ScaledObject')
    expect(scaled.length).toBeGreaterThan(0)
    for (const so of scaled) {
      expect(so.spec.minReplicaCount).toBe(0)
      const target = byKind('Deployment').find((d) => d.metadata.name === so.spec.scaleTargetRef.name)
      expect(target, `ScaledObject ${so.metadata.name} targets a Deployment in deploy/`).toBeDefined()
      expect(target!.spec.template.spec.containers[0]?.args[0]).toBe('worker')
    }
  })

  it('runs only steward commands and flags that exist, with environment variables Steward reads', () => {
    const flags: Record<string, string[]> = {
      serve: ['--port', '--workers'],
      worker: ['--pool', '--concurrency'],
    }
    for (const c of containers) {
      const [command, ...rest] = c.args
      expect(Object.keys(flags)).toContain(command)
      for (const arg of rest.filter((a) => a.startsWith('--'))) expect(flags[command!]).toContain(arg)
      for (const e of c.env) expect(Object.keys(envSchema.shape)).toContain(e.name)
    }
  })

  it('probes routes that answer 200 on a ready Steward', async () => {
    const paths = containers.flatMap((c) =>
      [c.readinessProbe, c.livenessProbe, c.startupProbe].flatMap((p) => (p ? [p.httpGet.path] : [])),
    )
    expect(paths).toEqual(expect.arrayContaining(['/readyz', '/healthz']))
    for (const path of new Set(paths)) expect((await s.api('GET', path, undefined, null)).status).toBe(200)
  })

  it('scales on Prometheus metrics that Steward exports', async () => {
    const text = await (await s.api('GET', '/metrics', undefined, null)).text()
    const exported = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]))
    const triggers = byKind('ScaledObject').flatMap((so) => so.spec.triggers)
    const queries = triggers.filter((t) => t.type === 'prometheus').map((t) => t.metadata.query)
    expect(queries.length).toBeGreaterThan(0)
    for (const q of queries)
      for (const [name] of q.matchAll(/steward_[a-z_]+/g)) expect(exported).toContain(name)
  })

  it('scales on a PostgreSQL query that runs against the real schema', async () => {
    const triggers = byKind('ScaledObject').flatMap((so) => so.spec.triggers)
    const queries = triggers.filter((t) => t.type === 'postgresql').map((t) => t.metadata.query)
    expect(queries.length).toBeGreaterThan(0)
    for (const q of queries) {
      const { rows } = await s.deps.pool.query(q)
      expect(Number(Object.values(rows[0])[0])).toBe(0)
    }
  })
})
