// Customer settings: what scheduling and spending need per customer (fair-share weight,
// concurrency caps, the priority range a customer token may use, the job kinds it may run, a
// monthly budget). Defaults come from config (`tenants.defaults`); the admin overrides them per
// customer with PATCH /v1/customers/{id}. Tenants owns them; the orchestrator, the SLA engine and
// cost reporting read them through this module's exports. The `tenants` section also says how API
// tokens are checked (`tenants.auth`: the look-up cache and the limit of failed authentications).
//
// Guarantees: the stored overrides always parse, with the defaults, into valid settings (a PATCH
// that would break that is refused whole, naming the field); removing an override (null) returns
// the setting to the current default.
import { z } from '@hono/zod-openapi'
import ipaddr from 'ipaddr.js'

const poolName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a pool name')
const kindName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'not a job kind')
const amount = z
  .number()
  .nonnegative()
  .max(1e12)
  .refine((a) => Math.abs(a * 100 - Math.round(a * 100)) < 1e-6, 'at most 2 decimals (cents)')

const priorityRange = z
  .object({
    min: z.number().int().min(-1000).max(1000).default(0),
    max: z.number().int().min(-1000).max(1000).default(0),
  })
  .strict()
  .refine((r) => r.min <= r.max, { message: 'min must not exceed max', path: ['min'] })

export const CustomerSettings = z
  .object({
    /** Relative share of a shared pool while customers compete for it (1 = an equal share). */
    schedulingWeight: z.number().positive().max(1000).default(1),
    concurrency: z
      .object({
        /** Most jobs of this customer running at once in a pool (absent: no cap). */
        perPool: z.record(poolName, z.number().int().min(1).max(100_000)).default({}),
        /** Most jobs of one run of this customer running at once (null: no cap). */
        perRun: z.number().int().min(1).max(100_000).nullable().default(null),
      })
      .strict()
      .prefault({}),
    /** Priorities a customer token may give its runs (default 0 only; the admin token may use any). */
    priority: priorityRange.prefault({}),
    /** Job kinds this customer may submit (null: every kind). */
    allowedKinds: z.array(kindName).max(1000).nullable().default(null),
    /**
     * The customer's share of the control plane's fixed cost, in % (up to 4 decimals), when the
     * allocation policy is `fixed_percent` (null: a share of what the others' percentages leave;
     * docs/cost.md).
     */
    fixedCostPercent: z
      .number()
      .min(0)
      .max(100)
      .refine((p) => Math.abs(p * 10_000 - Math.round(p * 10_000)) < 1e-6, 'at most 4 decimals')
      .nullable()
      .default(null),
    /**
     * A monthly budget in the customer's plan currency (null: none): thresholds at 50, 80 and 100%
     * notify the customer; at 100% `action` applies (docs/cost.md, "Budgets").
     */
    budget: z
      .object({
        /** Budget for AI tokens (absent: none). */
        aiTokens: amount.optional(),
        /** Budget for the total cost, infrastructure plus AI (absent: none). */
        total: amount.optional(),
        /** What happens at 100%: notify only, switch steps to their fallback, or hold new runs. */
        action: z.enum(['notify', 'fallback', 'pause']).default('notify'),
      })
      .strict()
      .nullable()
      .default(null),
  })
  .strict()
  .openapi('CustomerSettings')

export type CustomerSettings = z.output<typeof CustomerSettings>

/** How API tokens are checked: the look-up cache, and the limit of failed attempts per address. */
const authConfigSchema = z
  .object({
    tokenCache: z
      .object({
        /** Tokens whose look-up is kept (least recently used forgotten first). */
        maxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
        /** How long a look-up is trusted (a revocation through another instance takes this long). */
        ttlMs: z.number().int().min(0).max(3_600_000).default(5_000),
      })
      .strict()
      .prefault({}),
    failures: z
      .object({
        /** Failed authentications an address may make at once before it gets 429. */
        burst: z.number().int().min(1).default(20),
        /** Failed authentications per minute an address regains. */
        perMinute: z.number().positive().default(20),
        /** Proxies (addresses or CIDRs) whose X-Forwarded-For names the client; none by default. */
        trustedProxies: z
          .array(
            z.string().refine((s) => ipaddr.isValidCIDR(s) || ipaddr.isValid(s), 'not an address or CIDR'),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict()

/** The `tenants` section of the config file. */
export const tenantsConfigSchema = z
  .object({
    /** Settings of a customer that did not override them. */
    defaults: CustomerSettings.prefault({}),
    /** API token look-ups and the limit of failed authentications. */
    auth: authConfigSchema.prefault({}),
  })
  .strict()
  .prefault({})

/** A partial update: an object merges into what is stored, null removes an override (RFC 7396). */
export const SettingsPatch = z.record(z.string(), z.unknown()).openapi('CustomerSettingsPatch', {
  description: 'JSON merge patch of CustomerSettings: objects merge, null returns a setting to its default',
})

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** RFC 7396 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** The effective settings: the defaults with the stored overrides merged on top. */
export function effectiveSettings(
  defaults: CustomerSettings,
  overrides: unknown,
): z.ZodSafeParseResult<CustomerSettings> {
  return CustomerSettings.safeParse(mergePatch(defaults, overrides))
}
