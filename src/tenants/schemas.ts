// The tenants module's resources: one zod schema each, typing the code and the OpenAPI document.
import { z } from '@hono/zod-openapi'
import { CustomerSettings, SettingsPatch } from './settings.ts'

export const CustomerId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    'letters, digits, _ . - ; at most 64; starting with a letter or digit',
  )
  .openapi({ example: 'acme' })

export const Customer = z
  .object({
    id: z.string(),
    name: z.string(),
    webhookUrl: z.string().nullable(),
    createdAt: z.iso.datetime(),
    /** Effective settings: the config's defaults with this customer's overrides. */
    settings: CustomerSettings,
  })
  .openapi('Customer')

export type Customer = z.infer<typeof Customer>

export const NewCustomer = z
  .object({
    id: CustomerId,
    name: z.string().min(1).max(200),
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    webhookSecret: z.string().min(16).max(200).optional(),
    /** When the customer's contract began (onboarding an existing customer); default now. SLA months before it are not closed. */
    since: z.iso
      .datetime({ offset: true })
      // The SLA months a contract can have: 1970-01 to 2105-12 (docs/sla.md).
      .refine((t) => Date.parse(t) >= 0 && Date.parse(t) < Date.UTC(2106, 0, 1), 'not between 1970 and 2105')
      .optional(),
  })
  .strict()
  .openapi('NewCustomer')

export type NewCustomer = z.infer<typeof NewCustomer>

export const CustomerPatch = z
  .object({
    name: z.string().min(1).max(200).optional(),
    webhookUrl: z
      .url({ protocol: /^https?$/ })
      .nullable()
      .optional(),
    webhookSecret: z.string().min(16).max(200).optional(),
    settings: SettingsPatch.optional(),
  })
  .strict()
  .openapi('CustomerPatch')

export type CustomerPatch = z.infer<typeof CustomerPatch>

export const TokenRequest = z
  .object({ name: z.string().max(200).optional() })
  .strict()
  .openapi('TokenRequest')

export const IssuedToken = z
  .object({
    id: z.number().int(),
    token: z.string().openapi({ description: 'Shown once; only its SHA-256 is kept' }),
  })
  .openapi('IssuedToken')

/**
 * The notices a contact may receive by e-mail: an incident opened (`incident.investigating`), an
 * operator's update (`incident.update`), its resolution (`incident.resolved`), an SLA credit
 * (`sla.credit_issued`), the monthly SLA report (`sla.monthly_report`) and a budget threshold
 * crossed (`budget.threshold`: 50, 80 and 100% of a monthly budget). The kinds are those of
 * the webhook notices (X-Steward-Event). In a month with a credit, the report is the credit notice:
 * a contact with either SLA kind receives it.
 */
export const NoticeKind = z
  .enum([
    'incident.investigating',
    'incident.update',
    'incident.resolved',
    'sla.credit_issued',
    'sla.monthly_report',
    'budget.threshold',
  ])
  .openapi('NoticeKind')
export type NoticeKind = z.infer<typeof NoticeKind>

/** Every kind, in the order above: a contact's default. */
export const ALL_NOTICE_KINDS = NoticeKind.options

// An address is one mailbox, ASCII, without spaces, quotes or control characters (so never CR/LF).
const EmailAddress = z
  .email('not an e-mail address (one plain address, ASCII, like ops@example.com)')
  .max(254)

// A display name goes into a From or To header: no control characters (CR/LF would start a new
// header) and none of the characters that delimit addresses, so it can never be read as another
// recipient.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters this rule refuses
const NOT_IN_DISPLAY_NAME = /[\u0000-\u001F\u007F<>"@,;\\]/
export const DisplayName = z
  .string()
  .max(100)
  .refine((s) => !NOT_IN_DISPLAY_NAME.test(s), {
    message: 'a display name may not contain control characters (CR, LF, tab) or any of < > " @ , ; \\',
  })

/** One contact as written by the admin: the address, a display name, the notices it receives. */
export const NewCustomerContact = z
  .object({
    email: EmailAddress,
    name: DisplayName.default(''),
    /** Default: every kind. */
    notices: z
      .array(NoticeKind)
      .min(1)
      .refine((k) => new Set(k).size === k.length, 'each kind once')
      .default([...ALL_NOTICE_KINDS]),
  })
  .strict()
  .openapi('NewCustomerContact')

export const CustomerContact = z
  .object({ email: z.string(), name: z.string(), notices: z.array(NoticeKind) })
  .openapi('CustomerContact')
export type CustomerContact = z.infer<typeof CustomerContact>

/** PUT /v1/customers/{id}/contacts: the whole list, replacing what was there (empty: no e-mail). */
export const CustomerContactsUpdate = z
  .object({
    contacts: z
      .array(NewCustomerContact)
      .max(50)
      .superRefine((list, ctx) => {
        const seen = new Set<string>()
        list.forEach((c, i) => {
          const key = c.email.toLowerCase()
          if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i, 'email'], message: 'listed twice' })
          seen.add(key)
        })
      }),
  })
  .strict()
  .openapi('CustomerContactsUpdate')
export type CustomerContactsUpdate = z.infer<typeof CustomerContactsUpdate>

export const CustomerContacts = z
  .object({ customerId: z.string(), contacts: z.array(CustomerContact) })
  .openapi('CustomerContacts')
export type CustomerContacts = z.infer<typeof CustomerContacts>
