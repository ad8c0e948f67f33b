// When a worker's claim loop runs again (Wakeup): the rules, without a database.
import { describe, expect, it } from 'vitest'
import { Wakeup } from '../../src/orchestrator/wakeup.ts'

/** Whether `wait` returned at once (a signal was pending), or only at its timeout. */
async function wokeAtOnce(w: Wakeup): Promise<boolean> {
  const t0 = performance.now()
  await w.wait(200)
  return performance.now() - t0 < 150
}

describe('Wakeup', () => {
  it('wakes the loop when a slot frees after a claim that left jobs behind', async () => {
    const w = new Wakeup()
    w.begin()
    w.claiming()(true)
    w.slotFreed()
    expect(await wokeAtOnce(w)).toBe(true)
  })

  it('lets a freed slot sleep after a claim that left nothing behind, until a notice', async () => {
    const w = new Wakeup()
    w.begin()
    w.claiming()(false)
    w.slotFreed()
    expect(await wokeAtOnce(w)).toBe(false)
    w.notice()
    w.begin()
    w.slotFreed()
    expect(await wokeAtOnce(w)).toBe(true)
  })

  it('counts a notice that came while the claim ran: its job may be newer than the snapshot', async () => {
    const w = new Wakeup()
    w.begin()
    const answered = w.claiming()
    w.notice()
    answered(false)
    w.begin()
    w.slotFreed()
    expect(await wokeAtOnce(w)).toBe(true)
  })

  it('wakes a waiting loop at once on a signal', async () => {
    const w = new Wakeup()
    w.begin()
    const waited = w.wait(10_000)
    w.signal()
    await waited
  })
})
