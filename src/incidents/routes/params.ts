// What the incidents routes take in their path.
import { z } from '@hono/zod-openapi'

export const IdParam = z.object({
  id: z
    .string()
    .regex(/^inc_[0-9a-f-]{36}$/, 'an incident id (inc_<uuid>)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'inc_0b6f8a52-6c2e-4d8e-9d51-0f2b1a7c3e44' }),
})
