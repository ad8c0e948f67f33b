// What the orchestrator's route files share: path parameters, and the tenant check of an action.
import { z } from '@hono/zod-openapi'
import { canSee, type Principal } from '../../http/auth.ts'

const Id = z.string().min(1).max(128)
export const IdParam = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) })
export const JobIdParam = z.object({ jobId: Id.openapi({ param: { name: 'jobId', in: 'path' } }) })

/** Whether `p` may see a customer's runs and jobs (another customer's are answered 404). */
export const visibleTo = (p: Principal) => (customerId: string) => canSee(p, customerId)
