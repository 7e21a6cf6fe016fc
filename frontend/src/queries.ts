// The queries the dashboard sends, built from the URL state in one place.
import type { Dimension, Metric, Query } from './api'
import { boot } from './bootstrap'
import type { Filter } from './generated/query'
import {
  CURRENT_VISITORS_MINUTES,
  dateRangeFor,
  defaultInterval,
  intervalsFor,
  minutesAgo,
  nowIso,
  timeDimension,
} from './dates'
import { type DashState, conversionDivisorFilters, stateFilters } from './state'

export function baseQuery(state: DashState, metrics: Metric[]): Query {
  const query: Query = {
    metrics: metrics as Query['metrics'],
    date_range: dateRangeFor(state.period, boot.timezone, state.custom),
  }
  const filters = stateFilters(state)
  if (filters.length) query.filters = filters
  if (boot.imports && state.imports) query.include = { imports: true }
  return query
}

export function withComparison(query: Query, state: DashState): Query {
  if (state.compare === 'off' || state.period === 'realtime' || state.period === 'all') return query
  return { ...query, include: { ...query.include, comparisons: { mode: state.compare } } }
}

export function currentInterval(state: DashState) {
  const options = intervalsFor(state.period, state.custom)
  return state.interval && options.includes(state.interval)
    ? state.interval
    : defaultInterval(state.period, state.custom)
}

export function timeseriesQuery(state: DashState, metric: Metric): Query {
  const query = baseQuery(state, [metric])
  query.dimensions = [timeDimension(currentInterval(state))]
  query.include = { ...query.include, time_labels: true }
  return withComparison(query, state)
}

/** Each bucket's visitors that a conversion rate divides by (see conversionDivisorFilters). */
export function rateDivisorQuery(state: DashState, segments: { id: number; filters: Filter[] }[] | undefined): Query {
  const query = timeseriesQuery(state, 'visitors')
  const filters = conversionDivisorFilters(state, segments)
  if (filters.length) query.filters = filters
  else delete query.filters
  return query
}

export function breakdownQuery(
  state: DashState,
  dimensions: Dimension[],
  metrics: Metric[],
  limit: number,
  offset = 0,
): Query {
  const query = baseQuery(state, metrics)
  query.dimensions = dimensions
  query.order_by = [[metrics[0], 'desc']]
  query.pagination = { limit, offset }
  return query
}

export function currentVisitorsQuery(): Query {
  return { metrics: ['visitors'], date_range: [minutesAgo(CURRENT_VISITORS_MINUTES), nowIso()] }
}

export function stateKey(state: DashState, ...extra: unknown[]): string {
  return JSON.stringify([
    state.period,
    state.custom,
    state.compare,
    state.filters,
    state.segment,
    state.imports,
    ...extra,
  ])
}
