// How CLI commands reach Steward: a running `serve` over HTTP when one answers at STEWARD_URL
// (two processes must never open the same chDB directory), else nothing — the caller then opens
// the engines itself.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { PlatformConfig } from '../config.ts'
import type { Problem } from './errors.ts'

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    super(`${status} ${problem.title ?? ''}: ${problem.detail ?? ''}`.trim())
  }
}

export interface ApiClient {
  url: string
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>
  /** JSON request that throws an ApiError for a non-2xx answer. */
  json<T>(method: string, path: string, body?: unknown): Promise<T>
}

export function apiClient(
  url: string,
  token: string,
  fetcher: (req: Request) => Promise<Response> = fetch,
): ApiClient {
  const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetcher(
      new Request(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }),
    )
  return {
    url,
    request,
    async json<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await request(method, path, body)
      const text = await res.text()
      const parsed = text ? (JSON.parse(text) as unknown) : undefined
      if (!res.ok) throw new ApiError(res.status, (parsed ?? {}) as Partial<Problem>)
      return parsed as T
    },
  }
}

/** The admin token a CLI command on this machine may use: configured, or the one in the data dir. */
export function localAdminToken(config: PlatformConfig): string | undefined {
  if (config.adminToken) return config.adminToken
  const file = join(config.dataDir, 'admin-token')
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}

/** A client for the `serve` answering at config.stewardUrl, or undefined when none answers. */
export async function findRunningSteward(
  config: PlatformConfig,
  timeoutMs = 1_500,
): Promise<ApiClient | undefined> {
  try {
    const res = await fetch(`${config.stewardUrl}/healthz`, { signal: AbortSignal.timeout(timeoutMs) })
    if (!res.ok) return undefined
  } catch {
    return undefined
  }
  const token = localAdminToken(config)
  if (!token) {
    throw new Error(
      `a Steward answers at ${config.stewardUrl} but no admin token is known: set STEWARD_ADMIN_TOKEN or STEWARD_DATA_DIR`,
    )
  }
  return apiClient(config.stewardUrl, token)
}
