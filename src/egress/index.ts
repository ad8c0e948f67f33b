// The egress module: the policy for every request Steward makes to a URL someone else chose (the
// `http` job kind, customer webhooks). Other modules import only from this file.
//
// Guarantees (docs/security.md, "Egress"): a request goes only to public addresses unless the
// operator's allowlist names the destination; the host is resolved once, every address checked and
// the connection pinned to them; redirects are bounded and each hop is checked; the whole request
// has a timeout and the reply a byte cap. Refusals are `egress_refused` errors and are logged.
import type { Logger } from '../log.ts'
import { defineModule, type StewardModule } from '../module.ts'
import { Allowlist } from './allowlist.ts'
import { type EgressConfig, egressConfigSchema } from './config.ts'
import {
  type EgressRequestOptions,
  type EgressResponse,
  egressRequest,
  type RequestContext,
} from './request.ts'

export interface EgressPolicy {
  readonly config: EgressConfig
  /** Sends one request under the policy. */
  request(url: string, options?: EgressRequestOptions): Promise<EgressResponse>
}

/** The policy of `config` (default: nothing internal allowed); refusals are logged on `log`. */
export function createEgressPolicy(
  config: EgressConfig = egressConfigSchema.parse({}),
  opts: { log?: Logger } = {},
): EgressPolicy {
  const ctx: RequestContext = {
    allowlist: new Allowlist(config.allowlist),
    resolvers: config.resolvers,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    maxRedirects: config.maxRedirects,
    log: opts.log,
  }
  return {
    config,
    request: (url, options) => egressRequest(ctx, url, options),
  }
}

export interface EgressModule extends StewardModule {
  /** This deployment's policy (config `egress`), for the modules that make such requests. */
  policy: EgressPolicy
}

export const createEgress = defineModule(
  'egress',
  egressConfigSchema.prefault({}),
  (ctx): EgressModule => ({
    name: 'egress',
    policy: createEgressPolicy(ctx.config, { log: ctx.log.child({ module: 'egress' }) }),
  }),
)

export { classifyAddress } from './addresses.ts'
export { type EgressConfig, egressConfigSchema } from './config.ts'
export { EgressError } from './errors.ts'
export { type EgressRequestOptions, type EgressResponse, isForbiddenRequestHeader } from './request.ts'
