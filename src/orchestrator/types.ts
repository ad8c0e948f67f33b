// Types shared inside the orchestrator module.
export type FailureClass = 'validation' | 'transient' | 'agent' | 'infrastructure'

/** The columns of a job that its telemetry events carry. */
export interface JobDims {
  id: string
  run_id: string
  customer_id: string
  project_id: string
  run_type: string
  step_key: string
  kind: string
  pool: string
  attempt: number
}

/** A claimed job as a worker sees it. */
export interface ClaimedJob extends JobDims {
  input: unknown
  fallback: { kind: string; input?: unknown; pool: string } | null
  using_fallback: boolean
  failures: number
  reclaims: number
  max_attempts: number
  backoff_ms: number
  timeout_ms: number | null
  checkpoint: unknown
}

export interface QueueStat {
  pool: string
  /** Jobs ready to run now. */
  depth: number
  oldestReadyAgeSeconds: number
  running: number
  liveWorkers: number
  recommendedWorkers: number
}
