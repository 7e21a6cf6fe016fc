// The dashboard's one way to the query engine: POST a Stats API v2 query (without site_id)
// to the internal endpoint named in the bootstrap data, same engine as /api/v2/query.
import type {
  Dimension,
  FilterDimension,
  FilterOperator,
  Metric,
  QueryRequest,
  SimpleFilter,
} from './generated/query'
import { boot } from './bootstrap'
import { t } from './i18n'

export type { Dimension, FilterDimension, FilterOperator, Metric, SimpleFilter }

export const REVENUE_METRICS: Metric[] = ['total_revenue', 'average_revenue']
export type Query = Omit<QueryRequest, 'site_id'>

/** A revenue metric as the engine answers it (Plausible's shape). */
export interface Money {
  short: string
  long: string
  value: number
  currency: string
}

export interface Comparison {
  dimensions: string[]
  metrics: (number | null)[]
  change: (number | null)[]
  money?: (Money | null)[]
}

/** A result row. Revenue metrics arrive as Money objects: `metrics` holds their `value`
 * (so bars, sorting and charts read numbers) and `money` the objects, by position. */
export interface ResultRow {
  dimensions: string[]
  metrics: (number | null)[]
  money?: (Money | null)[]
  comparison?: Comparison
}

export interface QueryResponse {
  results: ResultRow[]
  meta: {
    time_labels?: string[]
    comparison_time_labels?: string[]
    total_rows?: number
    [key: string]: unknown
  }
  query: {
    date_range?: [string, string]
    comparison_date_range?: [string, string]
    [key: string]: unknown
  }
}

export class QueryFailed extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

// The engine answers one query at a time, so order matters for the first paint: the top
// stats go first and alone; everything else waits until they are in (or 1.5 s at most).
let openGate: () => void = () => undefined
const gate = new Promise<void>((resolve) => {
  openGate = resolve
  setTimeout(resolve, 1500)
})

/** Let the queued low-priority queries go (called once the first numbers are on screen). */
export function releaseQueue(): void {
  openGate()
}

export type Priority = 'first' | 'normal'

export async function runQuery(
  query: Query,
  signal?: AbortSignal,
  priority: Priority = 'normal',
): Promise<QueryResponse> {
  if (priority === 'normal') await gate
  return withNumbers((await post(boot.query_url, query, signal)) as QueryResponse)
}

type Cell = number | Money | null

function isMoney(cell: unknown): cell is Money {
  return typeof cell === 'object' && cell !== null && 'value' in cell && 'currency' in cell
}

function split(cells: Cell[]): { metrics: (number | null)[]; money?: (Money | null)[] } {
  if (!cells.some(isMoney)) return { metrics: cells as (number | null)[] }
  return {
    metrics: cells.map((c) => (isMoney(c) ? c.value : c)),
    money: cells.map((c) => (isMoney(c) ? c : null)),
  }
}

/** Rows whose metrics are numbers, the money objects beside them. */
function withNumbers(response: QueryResponse): QueryResponse {
  for (const row of response.results) {
    Object.assign(row, split(row.metrics as Cell[]))
    if (row.comparison) Object.assign(row.comparison, split(row.comparison.metrics as Cell[]))
  }
  return response
}

/** The custom property keys seen in a date range, most used first (the Properties panel). */
export async function propKeys(dateRange: Query['date_range'], signal?: AbortSignal): Promise<string[]> {
  await gate
  const body = (await post(boot.prop_keys_url, { date_range: dateRange }, signal)) as { keys: string[] }
  return body.keys
}

/** One step of a funnel's answer (docs/funnels.md). */
export interface FunnelStep {
  label: string
  visitors: number
  dropoff: number
  dropoff_percentage: number
  conversion_rate: number
  conversion_rate_step: number
}

export interface FunnelAnswer {
  id: number
  name: string
  steps: FunnelStep[]
  all_visitors: number
  entering_visitors: number
  entering_visitors_percentage: number
  never_entering_visitors: number
  completed_visitors: number
  conversion_rate: number
}

/** Visitors through a saved funnel's steps, in the query's date range and filters. */
export async function runFunnel(funnelId: number, query: Query, signal?: AbortSignal): Promise<FunnelAnswer> {
  await gate
  const body = { funnel_id: funnelId, date_range: query.date_range, filters: query.filters ?? [] }
  return (await post(boot.funnel_url, body, signal)) as FunnelAnswer
}

async function post(url: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
  if (signal?.aborted) throw new DOMException('aborted', 'AbortError')
  let response: Response
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': boot.csrf_token },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    })
  } catch (error) {
    if (signal?.aborted) throw error
    throw new QueryFailed(t('Jetrack cannot be reached. Check your connection and retry.'), 0)
  }
  if (!response.ok) {
    let message = `the server answered ${response.status}`
    try {
      const body = (await response.json()) as { error?: string }
      if (body.error) message = body.error
    } catch {
      // not JSON: keep the status line
    }
    throw new QueryFailed(message, response.status)
  }
  return (await response.json()) as unknown
}
