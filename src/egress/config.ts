// Settings of the egress policy: the "egress" section of the STEWARD_CONFIG file. They apply to
// every request Steward makes to a URL someone else chose (the `http` job kind, customer webhooks).
import { Resolver } from 'node:dns'
import { z } from 'zod'
import { parseAllowEntry } from './allowlist.ts'

const allowEntry = z.string().superRefine((text, ctx) => {
  const parsed = parseAllowEntry(text)
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed })
})

const dnsServer = z.string().refine(
  (text) => {
    const port = /(?:^[\d.]+|\]):(\d+)$/.exec(text)?.[1]
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return false
    try {
      new Resolver().setServers([text])
      return true
    } catch {
      return false
    }
  },
  { message: 'must be an IP address with an optional port: 10.0.0.2, 10.0.0.2:5353, [fd00::2]:53' },
)

export const egressConfigSchema = z
  .object({
    /** Internal destinations let through anyway: host names (`*.suffix`), addresses, CIDRs, with optional ports. */
    allowlist: z.array(allowEntry).max(1000).default([]),
    /** DNS servers that resolve the hosts of outbound requests (empty: the system resolver). */
    resolvers: z.array(dnsServer).max(8).default([]),
    /** The whole request: resolution, connection, redirects and the complete reply. */
    timeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
    /** Bytes of a reply kept; past them the connection is closed and the reply marked truncated. */
    maxResponseBytes: z
      .number()
      .int()
      .min(0)
      .max(64 * 1024 * 1024)
      .default(64 * 1024),
    /** Redirects followed (each one checked like the first URL); one more fails the request. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
  })
  .strict()

export type EgressConfig = z.infer<typeof egressConfigSchema>
