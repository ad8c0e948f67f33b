// Errors of the ClickHouse HTTP interface, shaped as ClickHouse's own: a text body
// `Code: N. DB::Exception: <message>. (NAME) (version V)`, the X-ClickHouse-Exception-Code header,
// and the HTTP status ClickHouse uses for that code (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp).
// Clients (clickhouse-go, @clickhouse/client) parse exactly this shape.

/** The ClickHouse error codes this interface raises itself (names as in src/Common/ErrorCodes.cpp). */
export const CODES = {
  BAD_ARGUMENTS: 36,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  TIMEOUT_EXCEEDED: 159,
  READONLY: 164,
  REQUIRED_PASSWORD: 194,
  QUERY_IS_TOO_LARGE: 229,
  INTO_OUTFILE_NOT_ALLOWED: 358,
  FUNCTION_NOT_ALLOWED: 446,
  SETTING_CONSTRAINT_VIOLATION: 452,
  UNKNOWN_SETTING: 115,
  AUTHENTICATION_FAILED: 516,
} as const
export type CodeName = keyof typeof CODES

// exceptionCodeToHTTPStatus, by error name (chDB's messages end with the name); anything else is 500.
const STATUS_BY_NAME: Record<string, number> = {
  REQUIRED_PASSWORD: 401,
  ...Object.fromEntries(
    ['UNKNOWN_USER', 'WRONG_PASSWORD', 'AUTHENTICATION_FAILED', 'SET_NON_GRANTED_ROLE'].map((n) => [n, 403]),
  ),
  ...Object.fromEntries(
    [
      'BAD_ARGUMENTS',
      'CANNOT_COMPILE_REGEXP',
      'CANNOT_PARSE_TEXT',
      'CANNOT_PARSE_ESCAPE_SEQUENCE',
      'CANNOT_PARSE_QUOTED_STRING',
      'CANNOT_PARSE_DATE',
      'CANNOT_PARSE_DATETIME',
      'CANNOT_PARSE_NUMBER',
      'CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING',
      'CANNOT_PARSE_IPV4',
      'CANNOT_PARSE_IPV6',
      'CANNOT_PARSE_INPUT_ASSERTION_FAILED',
      'CANNOT_PARSE_UUID',
      'DUPLICATE_COLUMN',
      'ILLEGAL_COLUMN',
      'UNKNOWN_ELEMENT_IN_AST',
      'UNKNOWN_TYPE_OF_AST_NODE',
      'THERE_IS_NO_COLUMN',
      'TOO_DEEP_AST',
      'TOO_BIG_AST',
      'UNEXPECTED_AST_STRUCTURE',
      'SYNTAX_ERROR',
      'INCORRECT_DATA',
      'TYPE_MISMATCH',
      'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE',
    ].map((n) => [n, 400]),
  ),
  ...Object.fromEntries(
    [
      'UNKNOWN_TABLE',
      'UNKNOWN_FUNCTION',
      'UNKNOWN_IDENTIFIER',
      'UNKNOWN_TYPE',
      'UNKNOWN_STORAGE',
      'UNKNOWN_DATABASE',
      'UNKNOWN_SETTING',
      'UNKNOWN_DIRECTION_OF_SORTING',
      'UNKNOWN_AGGREGATE_FUNCTION',
      'UNKNOWN_FORMAT',
      'UNKNOWN_DATABASE_ENGINE',
      'UNKNOWN_TYPE_OF_QUERY',
      'UNKNOWN_ROLE',
    ].map((n) => [n, 404]),
  ),
  QUERY_IS_TOO_LARGE: 413,
  NOT_IMPLEMENTED: 501,
  SOCKET_TIMEOUT: 503,
  CANNOT_OPEN_FILE: 503,
  HTTP_LENGTH_REQUIRED: 411,
  TIMEOUT_EXCEEDED: 408,
  CANNOT_SCHEDULE_TASK: 503,
}

/** A ClickHouse exception: `code` and `name` as ClickHouse numbers and names them. */
export class ClickHouseError extends Error {
  override name = 'ClickHouseError'
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(message)
  }
  get status(): number {
    return STATUS_BY_NAME[this.codeName] ?? 500
  }
}

/** An error this interface raises itself. `message` reads like ClickHouse's, without the final dot. */
export const chError = (name: CodeName, message: string) => new ClickHouseError(CODES[name], name, message)

const CHDB_MESSAGE =
  /^Code: (\d+)\. DB::Exception: ([\s\S]*?)\. \(([A-Z0-9_]+)\)(?: \(version [^)]*\))?\.?\s*$/

/**
 * The ClickHouse error inside an engine failure. chDB sometimes wraps the message twice
 * (`Code: 115. DB::Exception: Code: 115. DB::Exception: ... (UNKNOWN_SETTING) (version ...). (UNKNOWN_SETTING)`);
 * the innermost message is kept. Anything that is not a ClickHouse exception is rethrown.
 */
export function fromEngineError(err: unknown): ClickHouseError {
  if (err instanceof ClickHouseError) return err
  let m = CHDB_MESSAGE.exec(err instanceof Error ? err.message : String(err))
  if (!m) throw err
  for (let inner = CHDB_MESSAGE.exec(m[2]!); inner && inner[1] === m[1]; inner = CHDB_MESSAGE.exec(m[2]!))
    m = inner
  return new ClickHouseError(Number(m[1]), m[3]!, m[2]!)
}

/** The response ClickHouse sends for an exception. */
export function errorResponse(err: ClickHouseError, version: string): Response {
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-ClickHouse-Exception-Code': String(err.code),
  }
  if (err.status === 401) headers['WWW-Authenticate'] = 'Basic realm="ClickHouse", charset="UTF-8"'
  const body = `Code: ${err.code}. DB::Exception: ${err.message}. (${err.codeName}) (version ${version})\n`
  return new Response(body, { status: err.status, headers })
}
