// The embedded ClickHouse client: chDB keeps a request's settings in its session, so a setting one
// request passes must not leak into the next.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouseHandle } from '../../src/db/clickhouse.ts'
import { chQuery } from '../../src/db/clickhouse.ts'
import { openTestClickHouse } from '../helpers/db.ts'

let ch: ClickHouseHandle
beforeAll(async () => {
  ch = await openTestClickHouse()
  await ch.client.command({
    query: `CREATE TABLE IF NOT EXISTS sticky (n UInt32) ENGINE = MergeTree ORDER BY n
            SETTINGS non_replicated_deduplication_window = 100`,
  })
})
afterAll(async () => {
  await ch?.close()
})

describe('the embedded client', () => {
  it("does not carry one insert's deduplication token over to the next insert", async () => {
    await ch.client.insert({
      table: 'sticky',
      values: [{ n: 1 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: 'batch-1' },
    })
    // Another insert without a token of its own: with the token left set it would be dropped.
    await ch.client.insert({ table: 'sticky', values: [{ n: 2 }], format: 'JSONEachRow' })
    // The same token again is a duplicate, as it should be.
    await ch.client.insert({
      table: 'sticky',
      values: [{ n: 3 }],
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplicate: 1, insert_deduplication_token: 'batch-1' },
    })
    const rows = await chQuery<{ n: number }>(ch.client, 'SELECT n FROM sticky ORDER BY n')
    expect(rows.map((r) => r.n)).toEqual([1, 2])
  })
})
