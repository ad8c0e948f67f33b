// The expander the query tests rely on reproduces grafana-clickhouse-datasource 4.x exactly
// (/work/shared/reference/grafana.md): if it drifted, the query tests would test other SQL.
import { describe, expect, it } from 'vitest'
import { ALL, type ExpandContext, expandClickHouseSql } from './expand.ts'

const ctx = (variables: ExpandContext['variables'] = {}, intervalSeconds = 300): ExpandContext => ({
  from: new Date('2026-03-01T00:00:00.000Z'), // 1772323200
  to: new Date('2026-03-03T12:34:56.789Z'), // 1772541296
  intervalSeconds,
  variables,
})

describe('ClickHouse plugin macro expansion', () => {
  it('expands time filters and range bounds to toDateTime of whole seconds', () => {
    expect(expandClickHouseSql('WHERE $__timeFilter(ts) AND x < $__toTime OR x > $__fromTime', ctx())).toBe(
      'WHERE ts >= toDateTime(1772323200) AND ts <= toDateTime(1772541296) AND x < toDateTime(1772541296) OR x > toDateTime(1772323200)',
    )
  })

  it('expands $__timeInterval with the query interval in seconds, at least 1', () => {
    expect(expandClickHouseSql('SELECT $__timeInterval(hour) AS t', ctx())).toBe(
      'SELECT toStartOfInterval(toDateTime(hour), INTERVAL 300 second) AS t',
    )
    expect(expandClickHouseSql('SELECT $__timeInterval(m.minute), $__interval_s', ctx({}, 0.2))).toBe(
      'SELECT toStartOfInterval(toDateTime(m.minute), INTERVAL 1 second), 1',
    )
  })

  it('expands $__dateFilter to UTC days', () => {
    expect(expandClickHouseSql('$__dateFilter(d)', ctx())).toBe(
      "d >= toDate('2026-03-01') AND d <= toDate('2026-03-03')",
    )
  })

  it('turns $__conditionalAll into 1=1 for All or an empty value and keeps the condition otherwise', () => {
    // Grafana's ${name} syntax, written as a plain string.
    const sql =
      'WHERE $__conditionalAll(c IN ($customer), $customer) AND $__conditionalAll(p IN ($project), $project)'.replace(
        /\$project/g,
        '$' + '{project}',
      )
    expect(expandClickHouseSql(sql, ctx({ customer: ALL, project: '' }))).toBe('WHERE 1=1 AND 1=1')
    expect(expandClickHouseSql(sql, ctx({ customer: ['a', 'b'], project: ['x'] }))).toBe(
      "WHERE c IN ('a','b') AND p IN ('x')",
    )
  })

  it('keeps nested parentheses and commas inside the condition', () => {
    expect(
      expandClickHouseSql(
        "$__conditionalAll(lower(c) IN (lower($customer), 'z'), $customer)",
        ctx({ customer: ['A'] }),
      ),
    ).toBe("lower(c) IN (lower('A'), 'z')")
  })

  it('inserts a single-value variable as is', () => {
    expect(expandClickHouseSql('SELECT $target / 100', ctx({ target: '99.9' }))).toBe('SELECT 99.9 / 100')
  })

  it('refuses SQL that would reach ClickHouse with an unexpanded variable or macro', () => {
    expect(() => expandClickHouseSql('SELECT $nope', ctx())).toThrow(/unexpanded \$nope/)
    expect(() => expandClickHouseSql('SELECT $__timeGroup(ts, 5m)', ctx())).toThrow(/unsupported macro/)
    expect(() => expandClickHouseSql('WHERE c IN ($customer)', ctx({ customer: ALL }))).toThrow(/outside/)
  })
})
