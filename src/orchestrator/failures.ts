// The failure classes a handler reports, as errors: the worker records a job's failure by its class.
import type { FailureClass } from './schemas.ts'

/** A handler error with its failure class; other errors count as transient. */
export class JobError extends Error {
  constructor(
    readonly failureClass: FailureClass,
    message: string,
  ) {
    super(message)
    this.name = new.target.name
  }
}
/** Bad input or a request the step can never satisfy: fails the job without retry. */
export class JobValidationError extends JobError {
  constructor(message: string) {
    super('validation', message)
  }
}
/** A temporary fault (network, rate limit, timeout): retried with backoff. */
export class TransientError extends JobError {
  constructor(message: string) {
    super('transient', message)
  }
}
/** The AI agent/model failed the task: the step's fallback runs, else the job is dead-lettered. */
export class AgentError extends JobError {
  constructor(message: string) {
    super('agent', message)
  }
}
/** The machine under the job went away: the job is reclaimed without spending its attempt budget. */
export class InfrastructureError extends JobError {
  constructor(message: string) {
    super('infrastructure', message)
  }
}

export function classify(err: unknown): { failureClass: FailureClass; message: string } {
  if (err instanceof JobError) return { failureClass: err.failureClass, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { failureClass: 'transient', message: message || 'handler failed' }
}
