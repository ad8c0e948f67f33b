// The errors of an outbound request, each with a domain code. Callers classify by code (or by
// `permanent`): the HTTP edge never sees these; the orchestrator and the webhook outbox do.
export type EgressErrorCode =
  /** The destination is not allowed (private, loopback, metadata, ...): the caller's bad input. */
  | 'egress_refused'
  /** Not an http(s) URL, a URL carrying credentials, or a method or header node cannot send. */
  | 'egress_bad_request'
  /** Too many redirects, or a redirect to something that is not an http(s) URL. */
  | 'egress_redirect'
  /** The whole request (resolution, connection, reply) took longer than its timeout. */
  | 'egress_timeout'
  /** Resolution failed, the connection was refused or reset, TLS failed. */
  | 'egress_network'

const permanentCodes = new Set<EgressErrorCode>(['egress_refused', 'egress_bad_request', 'egress_redirect'])

export class EgressError extends Error {
  override name = 'EgressError'
  constructor(
    readonly code: EgressErrorCode,
    message: string,
    readonly detail: {
      /** Why a destination was refused, e.g. `loopback`, `private`, `cloud-metadata`. */
      reason?: string
      host?: string
      /** The refused address (also when the message keeps it from the customer). */
      address?: string
    } = {},
  ) {
    super(`${code}: ${message}`)
  }

  /** True when trying again cannot succeed: the request itself is refused. */
  get permanent(): boolean {
    return permanentCodes.has(this.code)
  }
}
