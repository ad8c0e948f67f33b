// Cost dashboard: AI tokens x model price + worker-seconds x pool price, from the cost_1h view
// (schemas/clickhouse/030_prices.sql, 061_usage_tokens.sql: usage_1h and jobs_1h priced at the
// price in force each hour, cache reads, cache writes and reasoning at their own prices); and the
// monthly profitability (profitability.ts).
import type { DashboardSpec } from './builder.ts'
import { profitabilityPanels } from './profitability.ts'
import { ENDED, filters, JOB_DIMS, RUN_DIMS, STANDARD_VARIABLES } from './sql.ts'

const cost = filters(JOB_DIMS)
const runs = filters(RUN_DIMS)
const bySource = `sumIf(cost, source = 'ai') AS ai_cost, sumIf(cost, source = 'infra') AS infra_cost, sum(cost) AS total_cost`

export const costDashboard: DashboardSpec = {
  uid: 'steward-cost',
  title: 'Steward / Cost',
  description:
    'Cost of runs: AI tokens priced per model and worker-seconds priced per pool, by customer, project, run type and model.',
  from: 'now-30d',
  variables: STANDARD_VARIABLES,
  panels: [
    { row: 'Totals' },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Total cost',
      description: 'AI + infrastructure cost in the range, in the price list currency.',
      decimals: 2,
      w: 6,
      h: 5,
      format: 'table',
      columns: ['total_cost'],
      sql: `SELECT sum(cost) AS total_cost FROM cost_1h WHERE $__timeFilter(hour) AND ${cost}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'AI and infrastructure cost',
      description: 'AI token cost and worker-time cost in the range.',
      decimals: 2,
      w: 6,
      h: 5,
      format: 'table',
      columns: ['ai_cost', 'infra_cost'],
      sql: `SELECT sumIf(cost, source = 'ai') AS ai_cost, sumIf(cost, source = 'infra') AS infra_cost
FROM cost_1h
WHERE $__timeFilter(hour) AND ${cost}`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'Cost per run',
      description: 'Cost in the range / runs that ended (succeeded, failed or cancelled) in the range.',
      decimals: 4,
      w: 6,
      h: 5,
      format: 'table',
      columns: ['cost_per_run'],
      sql: `SELECT
    (SELECT sum(cost) FROM cost_1h WHERE $__timeFilter(hour) AND ${cost})
    / (SELECT nullIf(sumIf(runs, ${ENDED}), 0) FROM runs_1h WHERE $__timeFilter(hour) AND ${runs}) AS cost_per_run`,
    },
    {
      source: 'clickhouse',
      type: 'stat',
      title: 'AI tokens',
      description:
        'Input and output tokens in the range (handlers, POST /v1/events, GenAI spans over OTLP); of the input, read from and written to the prompt cache; of the output, reasoning.',
      w: 6,
      h: 5,
      format: 'table',
      columns: [
        'input_tokens',
        'output_tokens',
        'cache_read_tokens',
        'cache_write_tokens',
        'reasoning_tokens',
      ],
      sql: `SELECT sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens,
    sum(reasoning_tokens) AS reasoning_tokens
FROM cost_1h
WHERE $__timeFilter(hour) AND source = 'ai' AND ${cost}`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      bars: true,
      title: 'Cost trend',
      description: 'AI and infrastructure cost per interval.',
      decimals: 2,
      w: 24,
      format: 'time_series',
      columns: ['time', 'ai_cost', 'infra_cost'],
      sql: `SELECT $__timeInterval(hour) AS time, sumIf(cost, source = 'ai') AS ai_cost, sumIf(cost, source = 'infra') AS infra_cost
FROM cost_1h
WHERE $__timeFilter(hour) AND ${cost}
GROUP BY time
ORDER BY time`,
    },
    { row: 'Breakdown' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Cost per customer',
      description: 'AI, infrastructure and total cost per customer.',
      decimals: 2,
      w: 8,
      format: 'table',
      columns: ['customer_id', 'ai_cost', 'infra_cost', 'total_cost'],
      sql: `SELECT customer_id, ${bySource}
FROM cost_1h
WHERE $__timeFilter(hour) AND ${cost}
GROUP BY customer_id
ORDER BY total_cost DESC, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Cost per project',
      description: 'AI, infrastructure and total cost per customer project.',
      decimals: 2,
      w: 8,
      format: 'table',
      columns: ['customer_id', 'project_id', 'ai_cost', 'infra_cost', 'total_cost'],
      sql: `SELECT customer_id, project_id, ${bySource}
FROM cost_1h
WHERE $__timeFilter(hour) AND ${cost}
GROUP BY customer_id, project_id
ORDER BY total_cost DESC, customer_id, project_id`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Cost per run type',
      description: 'Cost per run type, runs that ended, and cost per run.',
      decimals: 4,
      w: 8,
      format: 'table',
      columns: ['run_type', 'total_cost', 'runs', 'cost_per_run'],
      sql: `SELECT c.run_type AS run_type, c.total AS total_cost, r.ended AS runs, c.total / nullIf(r.ended, 0) AS cost_per_run
FROM
(
    SELECT run_type, sum(cost) AS total FROM cost_1h WHERE $__timeFilter(hour) AND ${cost} GROUP BY run_type
) AS c
LEFT JOIN
(
    SELECT run_type, sumIf(runs, ${ENDED}) AS ended FROM runs_1h WHERE $__timeFilter(hour) AND ${runs} GROUP BY run_type
) AS r ON c.run_type = r.run_type
ORDER BY total_cost DESC, run_type`,
    },
    { row: 'Profitability (monthly: frozen at the SLA close, provisional before)' },
    ...profitabilityPanels,
    { row: 'AI usage' },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Tokens and cost by model and customer',
      description:
        'Tokens and their cost per model and customer: cache reads and writes are part of the input, reasoning part of the output, each priced at its own price.',
      format: 'table',
      columns: [
        'model',
        'customer_id',
        'input_tokens',
        'cache_read_tokens',
        'cache_write_tokens',
        'output_tokens',
        'reasoning_tokens',
        'total_cost',
      ],
      sql: `SELECT model, customer_id, sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_write_tokens) AS cache_write_tokens, sum(output_tokens) AS output_tokens,
    sum(reasoning_tokens) AS reasoning_tokens, sum(cost) AS total_cost
FROM cost_1h
WHERE $__timeFilter(hour) AND source = 'ai' AND ${cost}
GROUP BY model, customer_id
ORDER BY total_cost DESC, model, customer_id`,
    },
    {
      source: 'clickhouse',
      type: 'timeseries',
      title: 'Tokens per interval by model',
      description: 'Input + output tokens per interval and model.',
      format: 'time_series',
      columns: ['time', 'model', 'tokens'],
      sql: `SELECT $__timeInterval(hour) AS time, model, sum(input_tokens + output_tokens) AS tokens
FROM cost_1h
WHERE $__timeFilter(hour) AND source = 'ai' AND ${cost}
GROUP BY time, model
ORDER BY time, model`,
    },
    {
      source: 'clickhouse',
      type: 'table',
      title: 'Usage without a price',
      description:
        'Models and pools used in the range with no price in force (counted as cost 0): add them to the SLA price list.',
      format: 'table',
      columns: ['source', 'name', 'tokens', 'worker_seconds'],
      sql: `SELECT source, if(source = 'ai', model, pool) AS name,
    sum(input_tokens + output_tokens) AS tokens, sum(worker_seconds) AS worker_seconds
FROM cost_1h
WHERE $__timeFilter(hour) AND priced = 0 AND ${cost}
GROUP BY source, name
ORDER BY source, name`,
    },
  ],
}
