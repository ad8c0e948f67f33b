// Prometheus metric names Steward's modules register (the cross-module metrics contract). Grafana
// panels may name only these; test/dashboards checks every panel expression against this list.
export const METRIC_CONTRACT = [
  // orchestrator
  'steward_queue_depth',
  'steward_queue_oldest_ready_age_seconds',
  'steward_jobs_running',
  'steward_workers_live',
  'steward_workers_recommended',
  'steward_jobs_processed_total',
  'steward_jobs_retried_total',
  'steward_jobs_failed_total',
  'steward_job_duration_seconds',
  // ingest
  'steward_outbox_backlog',
  'steward_outbox_oldest_age_seconds',
  'steward_relay_shipped_total',
  'steward_relay_failures_total',
  'steward_ingest_events_total',
  // incidents
  'steward_incidents_open',
  'steward_pagerduty_deliveries_total',
  'steward_webhook_deliveries_total',
  // http
  'steward_http_request_duration_seconds',
  // sla (src/sla/index.ts: month-to-date gauges, RPO samples)
  'steward_sla_uptime_percent',
  'steward_sla_success_rate_percent',
  'steward_sla_rpo_seconds',
] as const

/** Histogram metrics also expose these series. */
export const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const
