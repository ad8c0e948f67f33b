// Types shared inside the orchestrator module (its resources are in schemas.ts).

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
  /** Whether other steps of its run depend on it (set when the run is created). */
  has_dependents: boolean
}
