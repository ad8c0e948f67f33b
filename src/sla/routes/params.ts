// What the SLA routes take in their query and path: a month (YYYY-MM) and a customer id.
import { z } from '@hono/zod-openapi'
import { MonthKey } from '../schemas/plan.ts'

export const MonthParam = MonthKey
export const CustomerParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a customer id')

/** A list body: `{ items: [...] }`. */
export const items = <T extends z.ZodType>(schema: T) => z.object({ items: z.array(schema) })
