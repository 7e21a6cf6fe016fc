// The dashboard's state lives in the URL (shareable, and the back button works):
//   ?period=30d&compare=previous_period&metric=visitors&interval=day
//   &from=2026-01-01&to=2026-01-31 (custom) &f=is,visit:source,Google (repeatable)
//   &segment=12 (a saved segment, applied on top of the filters)
import { useCallback, useEffect, useState } from 'preact/hooks'
import type { FilterDimension, FilterOperator, SimpleFilter } from './api'
import type { Filter } from './generated/query'
import { type Interval, type Period, isIsoDate, isPeriod } from './dates'
import { SIMPLE_DIMENSIONS } from './generated/schema-values'

export type CompareMode = 'previous_period' | 'year_over_year' | 'off'
export type TopMetric =
  | 'visitors'
  | 'visits'
  | 'pageviews'
  | 'views_per_visit'
  | 'bounce_rate'
  | 'visit_duration'
  | 'events'
  | 'conversion_rate'

export const TOP_METRICS: TopMetric[] = [
  'visitors',
  'visits',
  'pageviews',
  'views_per_visit',
  'bounce_rate',
  'visit_duration',
]

/** What the top stats and the graph show while a goal filters the dashboard (with a goal,
 * `visitors` are unique conversions and `events` total conversions). */
export const CONVERSION_METRICS: TopMetric[] = ['visitors', 'events', 'conversion_rate']

export const PROPS_PREFIX = 'event:props:'

export interface DashFilter {
  op: 'is' | 'is_not' | 'contains'
  dimension: FilterDimension
  value: string
}

export interface DashState {
  period: Period
  custom?: [string, string]
  compare: CompareMode
  metric: TopMetric
  interval?: Interval
  filters: DashFilter[]
  /** The id of the applied saved segment (Stats API `["is", "segment", [id]]`). */
  segment?: number
  /** Add the site's imported history (`include.imports`); `?imports=off` leaves it out. */
  imports: boolean
}

export const DEFAULT_PERIOD: Period = '30d'
const OPS = ['is', 'is_not', 'contains'] as const

export function parseState(search: string): DashState {
  const params = new URLSearchParams(search)
  const period = params.get('period')
  const from = params.get('from')
  const to = params.get('to')
  const compare = params.get('compare')
  const metric = params.get('metric')
  const interval = params.get('interval')
  const state: DashState = {
    period: isPeriod(period) ? period : DEFAULT_PERIOD,
    compare:
      compare === 'off' || compare === 'year_over_year' ? compare : 'previous_period',
    metric: [...TOP_METRICS, ...CONVERSION_METRICS].includes(metric as TopMetric)
      ? (metric as TopMetric)
      : 'visitors',
    filters: [],
    imports: params.get('imports') !== 'off',
  }
  if (state.period === 'custom') {
    if (isIsoDate(from) && isIsoDate(to)) state.custom = from <= to ? [from, to] : [to, from]
    else state.period = DEFAULT_PERIOD
  }
  if (interval && ['minute', 'hour', 'day', 'week', 'month'].includes(interval)) {
    state.interval = interval as Interval
  }
  const segment = Number(params.get('segment'))
  if (Number.isInteger(segment) && segment > 0) state.segment = segment
  for (const raw of params.getAll('f')) {
    const first = raw.indexOf(',')
    const second = raw.indexOf(',', first + 1)
    if (first < 0 || second < 0) continue
    const op = raw.slice(0, first) as DashFilter['op']
    let dimension = raw.slice(first + 1, second)
    const value = raw.slice(second + 1)
    // Addresses saved while visit:city held names (it holds GeoNames ids now).
    if (dimension === 'visit:city' && !/^\d+$/.test(value)) dimension = 'visit:city_name'
    if (!OPS.includes(op) || !isFilterable(dimension)) continue
    state.filters.push({ op, dimension: dimension as FilterDimension, value })
  }
  return state
}

function isFilterable(dimension: string): boolean {
  return (
    SIMPLE_DIMENSIONS.includes(dimension) ||
    dimension === 'event:goal' ||
    (dimension.startsWith(PROPS_PREFIX) && dimension.length > PROPS_PREFIX.length)
  )
}

/** The goal filter, if any: it switches the dashboard to conversion metrics. */
export function goalFilter(state: DashState): DashFilter | undefined {
  return state.filters.find((f) => f.dimension === 'event:goal')
}

/** A segment's filters as the engine applies them: a top-level `and` is top level too. */
function topLevel(filters: Filter[]): Filter[] {
  return filters.flatMap((f) => (f[0] === 'and' ? topLevel(f[1] as Filter[]) : [f]))
}

function isConversionFilter(filter: Filter): boolean {
  const dimension = filter[1]
  return typeof dimension === 'string' && (dimension === 'event:goal' || dimension.startsWith(PROPS_PREFIX))
}

/** Whether the applied saved segment (its filters from the segment list) holds a goal. */
export function segmentGoal(state: DashState, segments: { id: number; filters: Filter[] }[] | undefined): boolean {
  const applied = state.segment ? segments?.find((s) => s.id === state.segment) : undefined
  return applied !== undefined && topLevel(applied.filters).some((f) => f[1] === 'event:goal')
}

/** The filters a conversion rate divides by (as the engine's conversion_rate): the view's
 * without its top-level goal and custom property filters, the applied segment's spelled
 * out when it holds them. */
export function conversionDivisorFilters(
  state: DashState,
  segments: { id: number; filters: Filter[] }[] | undefined,
): Filter[] {
  const applied = state.segment ? segments?.find((s) => s.id === state.segment) : undefined
  const chips = toQueryFilters(state.filters).filter((f) => !isConversionFilter(f as Filter))
  if (!state.segment) return chips
  if (!applied || !segmentGoal(state, segments)) return [['is', 'segment', [state.segment]], ...chips]
  return [...topLevel(applied.filters).filter((f) => !isConversionFilter(f)), ...chips]
}

/** The top stats without a goal filter. With a page filter, no views per visit: the
 * engine refuses it there, as Plausible does (the visits' pageviews count other pages).
 * `segment` holds the applied segment's saved filters, which may filter by page too (at
 * any depth of and/or/not: the text of the filters is searched). */
export function trafficMetrics(state: DashState, segment: readonly Filter[] = []): TopMetric[] {
  const byPage =
    state.filters.some((f) => f.dimension === 'event:page') || JSON.stringify(segment).includes('"event:page"')
  return byPage ? TOP_METRICS.filter((m) => m !== 'views_per_visit') : TOP_METRICS
}

/** The metric the graph shows: the URL's, if it fits the current mode. */
export function graphMetric(
  state: DashState,
  conversions = goalFilter(state) !== undefined,
  segment: readonly Filter[] = [],
): TopMetric {
  const allowed = conversions ? CONVERSION_METRICS : trafficMetrics(state, segment)
  return allowed.includes(state.metric) ? state.metric : 'visitors'
}

export function formatState(state: DashState): string {
  const params = new URLSearchParams()
  if (state.period !== DEFAULT_PERIOD) params.set('period', state.period)
  if (state.period === 'custom' && state.custom) {
    params.set('from', state.custom[0])
    params.set('to', state.custom[1])
  }
  if (state.compare !== 'previous_period') params.set('compare', state.compare)
  if (state.metric !== 'visitors') params.set('metric', state.metric)
  if (state.interval) params.set('interval', state.interval)
  for (const f of state.filters) params.append('f', `${f.op},${f.dimension},${f.value}`)
  if (state.segment) params.set('segment', String(state.segment))
  if (!state.imports) params.set('imports', 'off')
  const text = params.toString()
  return text ? `?${text}` : ''
}

export function toQueryFilters(filters: DashFilter[]): SimpleFilter[] {
  return filters.map((f) => [f.op as FilterOperator, f.dimension, [f.value]])
}

/** Every filter of the view: the applied segment's, then the chips'. */
export function stateFilters(state: DashState): Filter[] {
  const filters: Filter[] = state.segment ? [['is', 'segment', [state.segment]]] : []
  return [...filters, ...toQueryFilters(state.filters)]
}

/** The URL-backed state and a navigate function that pushes a history entry. */
export function useDashState(): [DashState, (next: DashState) => void] {
  const [state, setState] = useState(() => parseState(location.search))
  useEffect(() => {
    const onPop = () => setState(parseState(location.search))
    addEventListener('popstate', onPop)
    return () => removeEventListener('popstate', onPop)
  }, [])
  const navigate = useCallback((next: DashState) => {
    const search = formatState(next)
    if (search !== location.search) history.pushState(null, '', location.pathname + search)
    setState(next)
  }, [])
  return [state, navigate]
}

/** Add (or replace) the filter on a dimension; a dimension has at most one filter. */
export function withFilter(state: DashState, filter: DashFilter): DashState {
  const others = state.filters.filter((f) => f.dimension !== filter.dimension)
  return { ...state, filters: [...others, filter] }
}

export function withoutFilter(state: DashState, dimension: string): DashState {
  return { ...state, filters: state.filters.filter((f) => f.dimension !== dimension) }
}
