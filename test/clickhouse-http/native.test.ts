// The Native rewrite for a client protocol revision keeps every value and adds exactly what that
// revision's readers expect (block info; the custom-serialization flag from 54454), for the column
// types dashboards return and the nested ones around them. Checked with an independent reader
// (native-decoder.ts, written from clickhouse-go's block decoder) on the engine's own output.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nativeForRevision } from '../../src/clickhouse-http/native.ts'
import { type EmbeddedSession, openEmbeddedSession } from '../../src/db/clickhouse.ts'
import { testClickHouseDir } from '../helpers/db.ts'
import { decodeNative } from './native-decoder.ts'

let session: EmbeddedSession
beforeAll(async () => {
  session = await openEmbeddedSession(testClickHouseDir())
})
afterAll(() => session?.close())

const native = async (sql: string) => (await session.run(sql, { format: 'Native' })).bytes

const QUERIES = {
  'scalars of every width': `SELECT 1::UInt8 AS u8, -2::Int16 AS i16, 3::UInt32 AS u32, -4::Int64 AS i64, 5.5::Float32 AS f32,
    6.25 AS f64, toDate('2026-03-01') AS d, toDateTime('2026-03-01 10:00:00', 'UTC') AS t,
    toDateTime64('2026-03-01 10:00:00.123', 3, 'UTC') AS t64, toDecimal64(1.25, 3) AS dec, true AS b,
    toUUID('00000000-0000-0000-0000-00000000002a') AS id, toFixedString('ab', 2) AS fs,
    CAST('b', 'Enum8(\\'a\\' = 1, \\'b\\' = 2)') AS e, toInt128(7) AS i128`,
  'strings, low cardinality and nullables': `SELECT toString(number) AS s, toLowCardinality(toString(number % 3)) AS lc,
    if(number % 2 = 0, NULL, number) AS n, toLowCardinality(if(number = 1, NULL, 'x')) AS lcn
    FROM numbers(7)`,
  'arrays, tuples and maps': `SELECT [number, number + 1] AS a, [toLowCardinality('k')] AS alc,
    CAST((number, 'q') AS Tuple(id UInt64, name String)) AS nt, (1, [2, 3]) AS t,
    map('k', number) AS m, CAST([] AS Array(LowCardinality(String))) AS empty
    FROM numbers(3)`,
  'several blocks': 'SELECT number, toString(number) AS s FROM numbers(150000)',
  'an empty result': 'SELECT number FROM numbers(10) WHERE number > 100',
}

describe('Native output for a client protocol revision', () => {
  it.each(Object.entries(QUERIES))(
    'keeps every value of %s and frames it for revision 54460',
    async (_n, sql) => {
      const own = await native(sql)
      const rewritten = nativeForRevision(own, 54460)
      expect(decodeNative(rewritten, 54460)).toEqual(decodeNative(own, 0))
    },
  )

  it('frames blocks without the custom-serialization flag for revisions before 54454', async () => {
    const own = await native(QUERIES['strings, low cardinality and nullables'])
    expect(decodeNative(nativeForRevision(own, 54453), 54453)).toEqual(decodeNative(own, 0))
  })

  it('returns the engine bytes unchanged for revision 0', async () => {
    const own = await native(QUERIES['arrays, tuples and maps'])
    expect(nativeForRevision(own, 0)).toBe(own)
  })

  it('adds 8 bytes of block info per block and one flag byte per column', async () => {
    const own = await native(QUERIES['several blocks'])
    const blocks = decodeNative(own, 0)
    expect(blocks.length).toBeGreaterThan(1)
    expect(nativeForRevision(own, 54460).length).toBe(own.length + blocks.length * (8 + 2))
  })
})

describe('Native rewrite refusals', () => {
  it('refuses a column type whose layout it does not know, rather than sending a broken result', async () => {
    const own = await native('SELECT quantilesState(0.5)(number) AS q FROM numbers(5)')
    expect(() => nativeForRevision(own, 54460)).toThrow(/NOT_IMPLEMENTED|not supported/)
    try {
      nativeForRevision(own, 54460)
    } catch (err) {
      expect((err as { codeName: string }).codeName).toBe('NOT_IMPLEMENTED')
    }
  })

  it('refuses revisions older than LowCardinality support', async () => {
    const own = await native('SELECT 1')
    expect(() => nativeForRevision(own, 54000)).toThrow(/older than/)
  })

  it('refuses truncated data', async () => {
    const own = await native(QUERIES['strings, low cardinality and nullables'])
    expect(() => nativeForRevision(own.subarray(0, own.length - 3), 54460)).toThrow(/Native/)
  })
})
