// What the orchestrator's route files share: path parameters, and the tenant check of an action.
import { z } from '@hono/zod-openapi'
import { canSee, type Principal } from '../../http/auth.ts'
import { jsonContent, problems } from '../../http/openapi.ts'
import { Job } from '../schemas.ts'

const Id = z.string().min(1).max(128)
export const IdParam = z.object({ id: Id.openapi({ param: { name: 'id', in: 'path' } }) })
export const JobIdParam = z.object({ jobId: Id.openapi({ param: { name: 'jobId', in: 'path' } }) })

/** Whether `p` may see a customer's runs and jobs (another customer's are answered 404). */
export const visibleTo = (p: Principal) => (customerId: string) => canSee(p, customerId)

/** What retrying a job answers (POST /v1/jobs/{id}/retry and /v1/dlq/{jobId}/retry). */
export const retryResponses = {
  200: jsonContent(Job, 'The job, queued again'),
  ...problems('invalid', 'unauthorized', 'not_found', 'conflict'),
}
