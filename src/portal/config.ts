// Settings of the customer portal: the "portal" section of the STEWARD_CONFIG file (`{}` gives the
// defaults). docs/configuration.md and docs/security.md ("Portal sessions") describe each one.
import ipaddr from 'ipaddr.js'
import { z } from 'zod'

/** An IP address or a CIDR range (IPv4 or IPv6). */
const addressOrRange = z
  .string()
  .refine(
    (s) => (s.includes('/') ? ipaddr.isValidCIDR(s) : ipaddr.isValid(s)),
    'must be an IP address or a CIDR range',
  )

export const portalConfigSchema = z
  .object({
    /** A session unused this long ends (the page's automatic refresh does not count as use). */
    idleTimeoutSeconds: z.number().int().min(60).max(86_400).default(1_800),
    /** A session ends this long after sign-in, however much it is used. */
    absoluteTimeoutSeconds: z.number().int().min(300).max(2_592_000).default(43_200),
    /**
     * The cookie's Secure attribute. auto: when the request is https as Steward sees it (TLS on
     * its own socket, `X-Forwarded-Proto: https` from a trusted proxy) or STEWARD_URL is https.
     */
    secureCookies: z.enum(['auto', 'always', 'never']).default('auto'),
    /**
     * Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed (addresses or CIDR
     * ranges). From any other peer those headers are ignored.
     */
    trustedProxies: z.array(addressOrRange).max(100).default([]),
    /** Sign-in attempts allowed per client address in each window (successful ones count too). */
    loginAttempts: z.number().int().min(1).max(10_000).default(10),
    loginWindowSeconds: z.number().int().min(10).max(86_400).default(300),
    /** How often the page refreshes itself (with JavaScript). */
    refreshSeconds: z.number().int().min(5).max(3_600).default(15),
    /**
     * A customer's SLA figures (a month of telemetry to compute) are reused this long by every
     * page and refresh of that customer (0: computed for each).
     */
    figuresCacheSeconds: z.number().int().min(0).max(3_600).default(30),
    /** Resolved incidents shown this many days back (open ones always). */
    incidentDays: z.number().int().min(1).max(366).default(30),
    /** Runs in "Recent runs". */
    recentRuns: z.number().int().min(1).max(200).default(20),
    /** Closed months in the credit history. */
    creditMonths: z.number().int().min(1).max(120).default(24),
  })
  .strict()
  .refine((c) => c.absoluteTimeoutSeconds >= c.idleTimeoutSeconds, {
    path: ['absoluteTimeoutSeconds'],
    message: 'must be at least idleTimeoutSeconds',
  })

export type PortalConfig = z.infer<typeof portalConfigSchema>
