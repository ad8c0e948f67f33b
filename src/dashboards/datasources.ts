// Datasource references with fixed UIDs, matching grafana/provisioning/datasources/steward.yaml.
export interface DatasourceRef {
  type: string
  uid: string
}

export const CLICKHOUSE = { type: 'grafana-clickhouse-datasource', uid: 'steward-clickhouse' } as const
export const PROMETHEUS = { type: 'prometheus', uid: 'steward-prometheus' } as const
