// Control-plane heartbeats: every `intervalMs` each serve instance appends a `heartbeat` event
// (component 'control_plane', customerId '') to the outbox. The uptime job counts a minute up when
// a healthy control-plane heartbeat (or an ok probe) exists in it. `healthy` is this instance's
// own view: ClickHouse answers a ping (PostgreSQL answered, or the event could not be written).
// A heartbeat that cannot be written (PostgreSQL down) is skipped and logged: that minute then
// has no heartbeat from this instance, which is the truth.
import type { ClickHouseClient } from '../db/clickhouse.ts'
import type { Pool } from '../db/postgres.ts'
import type { Logger } from '../log.ts'
import { appendEvents } from './outbox.ts'

export interface HeartbeatOptions {
  pool: Pool
  clickhouse?: ClickHouseClient
  instanceId: string
  intervalMs: number
  log: Logger
  /** Called after each heartbeat is committed (wakes the relay). */
  onBeat?: () => void
}

export function startHeartbeats(o: HeartbeatOptions): { stop(): Promise<void> } {
  let inFlight: Promise<void> | undefined
  const beat = async () => {
    let healthy = true
    if (o.clickhouse) {
      const ping = await o.clickhouse.ping().catch(() => ({ success: false }))
      healthy = ping.success
    }
    try {
      await appendEvents(o.pool, [
        { type: 'heartbeat', instanceId: o.instanceId, component: 'control_plane', customerId: '', healthy },
      ])
      o.onBeat?.()
    } catch (err) {
      o.log.warn('control-plane heartbeat not written', { error: err })
    }
  }
  const tick = () => {
    inFlight ??= beat().finally(() => (inFlight = undefined))
  }
  tick()
  const timer = setInterval(tick, o.intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await inFlight
    },
  }
}
