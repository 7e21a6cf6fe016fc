import { useEffect } from 'preact/hooks'
import { type Metric, type Money, REVENUE_METRICS, releaseQueue } from '../api'
import { useDash } from '../context'
import {
  CONVERSION_LABELS,
  LOWER_IS_BETTER,
  METRIC_LABELS,
  POINT_METRICS,
  exactMetric,
  formatMetric,
  moneyText,
} from '../format'
import { useQuery } from '../hooks'
import { baseQuery, currentVisitorsQuery, stateKey, withComparison } from '../queries'
import { useConversions, useSegmentFilters } from '../segments'
import { CONVERSION_METRICS, type TopMetric, graphMetric, trafficMetrics } from '../state'
import { reportVisitors } from './EmptyState'
import { locale, t } from '../i18n'
import { ErrorNote } from './ErrorNote'

export const REALTIME_REFRESH_MS = 15_000

export function TopStats() {
  const { state } = useDash()
  return state.period === 'realtime' ? <RealtimeStats /> : <PeriodStats />
}

function PeriodStats() {
  const { state, navigate } = useDash()
  // A goal filter (or a segment with one) turns the numbers into its conversions, as
  // Plausible does.
  const conversions = useConversions(state)
  // With a goal filter, also its revenue: shown when the goal has a currency (else null).
  // An applied segment's filters decide the metrics too: asked once they are known.
  const segment = useSegmentFilters(state.segment)
  const metrics: Metric[] = conversions
    ? [...CONVERSION_METRICS, ...REVENUE_METRICS]
    : trafficMetrics(state, segment ?? [])
  const { data, error, loading, retry } = useQuery(
    () => (segment === null ? null : withComparison(baseQuery(state, metrics), state)),
    stateKey(state, String(metrics), conversions, segment === null),
    0,
    'first',
  )
  useEffect(() => {
    if (data || error) releaseQueue()
    if (data && state.filters.length === 0 && !state.segment) reportVisitors(data.results[0]?.metrics[0] ?? 0)
  }, [data, error])
  if (error && !data) return <ErrorNote message={error} retry={retry} />
  // The last answer may still be the other mode's while the new one loads.
  const fits = data?.query.metrics === undefined || String(data.query.metrics) === String(metrics)
  const row = fits ? data?.results[0] : undefined
  const selected = graphMetric(state, conversions, segment ?? [])
  return (
    <div
      class={`jd-stats ${loading ? 'jd-loading' : ''}`}
      data-testid="top-stats"
      data-mode={conversions ? 'conversions' : 'traffic'}
    >
      {metrics.map((metric, i) =>
        REVENUE_METRICS.includes(metric) ? (
          row?.money?.[i] && (
            <StatCard
              key={metric}
              metric={metric}
              label={CONVERSION_LABELS[metric]}
              value={row.metrics[i] ?? 0}
              money={row.money[i]}
              change={row.comparison ? row.comparison.change[i] : undefined}
              previousMoney={row.comparison?.money?.[i]}
              selected={false}
            />
          )
        ) : (
          <StatCard
            key={metric}
            metric={metric}
            label={conversions ? CONVERSION_LABELS[metric] : undefined}
            value={row ? (row.metrics[i] ?? 0) : null}
            change={row?.comparison ? row.comparison.change[i] : undefined}
            previous={row?.comparison ? row.comparison.metrics[i] : undefined}
            selected={selected === metric}
            onSelect={() => navigate({ ...state, metric: metric as TopMetric })}
          />
        ),
      )}
    </div>
  )
}

function RealtimeStats() {
  const { state } = useDash()
  const current = useQuery(currentVisitorsQuery, 'rt-current', REALTIME_REFRESH_MS, 'first')
  const window = useQuery(
    () => baseQuery(state, ['visitors', 'pageviews']),
    stateKey(state),
    REALTIME_REFRESH_MS,
    'first',
  )
  useEffect(() => {
    if (window.data || window.error) releaseQueue()
  }, [window.data, window.error])
  const error = current.error ?? window.error
  if (error && !window.data) return <ErrorNote message={error} retry={window.retry} />
  const row = window.data?.results[0]
  return (
    <div class="jd-stats" data-testid="top-stats">
      <StatCard
        metric="visitors"
        label={t('Current visitors (last 5 minutes)')}
        testid="stat-current-visitors"
        value={current.data ? (current.data.results[0]?.metrics[0] ?? 0) : null}
        selected={false}
      />
      <StatCard
        metric="visitors"
        label={t('Unique visitors (last 30 minutes)')}
        value={row ? (row.metrics[0] ?? 0) : null}
        selected={true}
      />
      <StatCard
        metric="pageviews"
        label={t('Pageviews (last 30 minutes)')}
        value={row ? (row.metrics[1] ?? 0) : null}
        selected={false}
      />
    </div>
  )
}

interface CardProps {
  metric: Metric
  value: number | null
  label?: string
  change?: number | null
  previous?: number | null
  /** A revenue metric's money (its value is `value`) and the compared period's. */
  money?: Money | null
  previousMoney?: Money | null
  selected: boolean
  testid?: string
  onSelect?: () => void
}

function StatCard(props: CardProps) {
  const { metric, value, label, change, previous, money, previousMoney, selected, testid, onSelect } = props
  const title = label ?? METRIC_LABELS[metric]
  const shown = money ? moneyText(money, true) : value === null ? null : formatMetric(metric, value)
  const body = (
    <>
      <span class="jd-stat-label">{title}</span>
      <span class="jd-stat-value" translate={false} title={money ? moneyText(money) : exactMetric(metric, value)}>
        {shown === null ? <span class="jd-skeleton" /> : shown}
      </span>
      {change !== undefined && (
        <Change
          metric={metric}
          change={change}
          was={previousMoney ? moneyText(previousMoney, true) : previous == null ? undefined : formatMetric(metric, previous)}
        />
      )}
    </>
  )
  const common = {
    class: `jd-stat ${selected ? 'jd-selected' : ''}`,
    'data-testid': testid ?? `stat-${metric}`,
    'data-value': value ?? '',
    'data-change': change ?? '',
  }
  return onSelect ? (
    <button type="button" {...common} aria-pressed={selected} onClick={onSelect}>
      {body}
    </button>
  ) : (
    <div {...common}>{body}</div>
  )
}

const changeFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 })

function Change({ metric, change, was }: { metric: Metric; change: number | null; was?: string }) {
  const hint = was === undefined ? '' : t('was {value}', { value: was })
  if (change === null) return <span class="jd-change jd-muted" title={hint}>–</span>
  const good = LOWER_IS_BETTER.includes(metric) ? change < 0 : change > 0
  const tone = change === 0 ? 'jd-muted' : good ? 'jd-good' : 'jd-bad'
  const arrow = change > 0 ? '↑' : change < 0 ? '↓' : ''
  const unit = POINT_METRICS.includes(metric) ? ` ${t('pp')}` : '%'
  return (
    <span class={`jd-change ${tone}`} data-testid={`change-${metric}`} title={hint}>
      {arrow} {changeFormat.format(Math.abs(Math.round(change * 10) / 10))}
      {unit}
    </span>
  )
}
