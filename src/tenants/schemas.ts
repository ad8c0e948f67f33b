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
    since: z.iso.datetime({ offset: true }).optional(),
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
