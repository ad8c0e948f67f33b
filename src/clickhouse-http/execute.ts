// Runs one request's query on the embedded store, read-only.
//
// Guarantees:
// - each request gets its own engine session, opened for it and closed after it, so the settings
//   it sets (the client's allowed ones, the limits, readonly = 1) never reach another request or
//   Steward's own ClickHouse client;
// - the query runs only as the one statement ClickHouse parsed from it (formatQuerySingleLine:
//   several statements are a SYNTAX_ERROR, as the ClickHouse server answers them), after the checks
//   of statement.ts on that statement; with readonly = 1 the engine itself refuses any write too;
// - `{name:Type}` values are bound by the engine, never pasted into SQL.
import { type EmbeddedSession, openEmbeddedSession } from '../db/clickhouse.ts'
import type { ClickHouseHttpConfig } from './config.ts'
import { ClickHouseError, chError, fromEngineError } from './errors.ts'
import { nativeForRevision } from './native.ts'
import type { ClickHouseRequest } from './request.ts'
import { planSettings } from './settings.ts'
import { inspectStatement } from './statement.ts'

export interface QueryResult {
  body: Uint8Array
  format: string
}

const NAME = /^[A-Za-z0-9_]{1,128}$/

/** Tells an unknown setting from a known one this interface does not allow. */
async function refuseSetting(session: EmbeddedSession, name: string): Promise<never> {
  const known = await session.run('SELECT count() FROM system.settings WHERE name = {name:String}', {
    params: { name },
  })
  if (Buffer.from(known.bytes).toString().trim() === '0') {
    throw chError('UNKNOWN_SETTING', `Unknown setting '${name.slice(0, 128)}'`)
  }
  throw chError(
    'SETTING_CONSTRAINT_VIOLATION',
    `Setting ${name} should not be changed: Steward's ClickHouse interface allows only harmless read settings (docs/telemetry.md)`,
  )
}

/** ClickHouse's own parse of the query, rendered back as one canonical statement. */
async function canonicalStatement(session: EmbeddedSession, query: string): Promise<string> {
  try {
    const r = await session.run('SELECT formatQuerySingleLine({q:String})', {
      params: { q: query },
      format: 'RawBLOB',
    })
    return Buffer.from(r.bytes).toString('utf8')
  } catch (err) {
    const e = fromEngineError(err)
    // The engine names the wrapping call ("In scope SELECT formatQuerySingleLine(...)"): not the client's concern.
    const at = e.message.indexOf(': In scope SELECT formatQuerySingleLine(')
    return Promise.reject(
      at < 0 ? e : new ClickHouseError(e.code, e.codeName, e.message.slice(0, at).replace(/[.\s]+$/, '')),
    )
  }
}

export async function runQuery(
  req: ClickHouseRequest,
  opts: { path: string; config: ClickHouseHttpConfig },
): Promise<QueryResult> {
  if (req.query.trim() === '') throw chError('SYNTAX_ERROR', 'Empty query')
  for (const name of [req.database, req.defaultFormat]) {
    if (name !== undefined && !NAME.test(name))
      throw chError('BAD_ARGUMENTS', `'${name.slice(0, 64)}' is not a valid name`)
  }
  const session = await openEmbeddedSession(opts.path)
  try {
    const statement = inspectStatement(await canonicalStatement(session, req.query))
    // As in ClickHouse, the query's own SETTINGS apply over the URL's.
    const plan = planSettings(
      new Map([...req.settings, ...statement.settings]),
      opts.config,
      statement.nestedSettings,
    )
    if (plan.refused.length > 0) await refuseSetting(session, plan.refused[0]!)
    const setup = [...(req.database ? [`USE \`${req.database}\``] : []), ...plan.statements]
    await session.run(setup.join('; '))
    const format = statement.format ?? req.defaultFormat ?? 'TabSeparated'
    const result = await session.run(statement.text, {
      format,
      params: req.params,
      // A backstop only: max_execution_time stops the query inside the engine.
      timeoutMs: (opts.config.maxExecutionTimeSeconds + 10) * 1000,
    })
    const native = format.toLowerCase() === 'native'
    return {
      body: native ? nativeForRevision(result.bytes, req.clientProtocolVersion) : result.bytes,
      format,
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'CHDB_TIMEOUT') {
      throw chError('TIMEOUT_EXCEEDED', `Timeout exceeded: maximum: ${opts.config.maxExecutionTimeSeconds} s`)
    }
    throw fromEngineError(err)
  } finally {
    session.close()
  }
}
