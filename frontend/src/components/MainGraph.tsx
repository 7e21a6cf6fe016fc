import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { type Note, useNotes } from '../annotations'
import type { Metric, QueryResponse } from '../api'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import { INTERVAL_NAMES, REALTIME_MINUTES, intervalsFor, minutesAgo, nowIso, supportsInterval, todayIn } from '../dates'
import { CONVERSION_LABELS, METRIC_LABELS, formatMetric } from '../format'
import { useQuery } from '../hooks'
import { baseQuery, currentInterval, rateDivisorQuery, stateKey, timeseriesQuery } from '../queries'
import { useConversions, useSegmentFilters, useSegments } from '../segments'
import { graphMetric } from '../state'
import { cssVar } from '../theme'
import { ErrorNote } from './ErrorNote'
import { ImportsNote } from './ImportsNote'
import { NotesButton, notesPlugin } from './GraphNotes'
import { REALTIME_REFRESH_MS } from './TopStats'
import { locale, t } from '../i18n'

interface Series {
  labels: string[]
  values: (number | null)[]
  previous: (number | null)[] | null
  previousLabels: string[] | null
}

// Dates on the graph in the page's language: day ticks (31 Jan, 31. Jan.) and uPlot's names.
const dayTick = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' })
const DATE_NAMES = dateNames()

function dateNames(): uPlot.DateNames {
  const months = (month: 'long' | 'short') =>
    Array.from({ length: 12 }, (_, m) =>
      new Intl.DateTimeFormat(locale, { month, timeZone: 'UTC' }).format(Date.UTC(2026, m, 1)),
    )
  // 1 February 2026 is a Sunday, where uPlot's week starts.
  const days = (weekday: 'long' | 'short') =>
    Array.from({ length: 7 }, (_, d) =>
      new Intl.DateTimeFormat(locale, { weekday, timeZone: 'UTC' }).format(Date.UTC(2026, 1, 1 + d)),
    )
  return { MMMM: months('long'), MMM: months('short'), WWWW: days('long'), WWW: days('short') }
}

/** Bucket labels ("2026-01-31", "2026-01-31 13:00:00") as seconds, read as UTC wall time. */
function labelSeconds(label: string): number {
  const iso = label.length === 10 ? `${label}T00:00:00Z` : `${label.replace(' ', 'T')}Z`
  return Date.parse(iso) / 1000
}

/** The site's wall-clock "now" as a label-comparable string (future buckets stay empty). */
function siteNow(): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: boot.timezone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(new Date())
  return `${todayIn(boot.timezone)} ${parts}`
}

export function toSeries(response: QueryResponse, zeroFill: boolean): Series {
  const byLabel = new Map<string, number | null>()
  const previousByLabel = new Map<string, number | null>()
  for (const row of response.results) {
    byLabel.set(row.dimensions[0], row.metrics[0])
    if (row.comparison) previousByLabel.set(row.dimensions[0], row.comparison.metrics[0])
  }
  const labels = response.meta.time_labels ?? [...byLabel.keys()].sort()
  const now = siteNow()
  const values = labels.map((label) => {
    if (byLabel.has(label)) return byLabel.get(label) ?? 0
    return zeroFill && label <= now ? 0 : null
  })
  const previousLabels = response.meta.comparison_time_labels ?? null
  let previous: (number | null)[] | null = null
  const comparisonRows = response.meta.comparison_results as
    | { dimensions: string[]; metrics: (number | null)[] }[]
    | undefined
  if (previousLabels && comparisonRows) {
    const byPrevious = new Map(comparisonRows.map((row) => [row.dimensions[0], row.metrics[0]]))
    previous = previousLabels.map((label) => byPrevious.get(label) ?? 0)
  } else if (previousByLabel.size > 0) {
    previous = labels.map((label) => previousByLabel.get(label) ?? 0)
  }
  return { labels, values, previous, previousLabels }
}

/** Conversions / visitors per bucket, in percent like the engine's conversion_rate. */
export function ratioSeries(conversions: Series, visitors: Series): Series {
  const ratio = (a: (number | null)[], b: (number | null)[]) =>
    a.map((value, i) => {
      const whole = b[i]
      if (value === null || whole === null || whole === undefined) return null
      return whole === 0 ? 0 : Math.round((value / whole) * 10000) / 100
    })
  return {
    labels: conversions.labels,
    values: ratio(conversions.values, visitors.values),
    previous:
      conversions.previous && visitors.previous ? ratio(conversions.previous, visitors.previous) : null,
    previousLabels: conversions.previousLabels,
  }
}

/** Metrics that are counts, and the whole steps their axis ticks may take (1, 2, 5, 10...). */
const WHOLE_METRICS: Metric[] = ['visitors', 'visits', 'pageviews', 'events']
const WHOLE_STEPS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3))

export function MainGraph() {
  const { state, navigate } = useDash()
  const realtime = state.period === 'realtime'
  const segments = useSegments()?.segments
  const segment = useSegmentFilters(state.segment) ?? []
  const goal = useConversions(state)
  const conversions = !realtime && goal
  const metric: Metric = realtime ? 'visitors' : graphMetric(state, conversions, segment)
  // The engine divides conversion_rate by the whole range's visitors, so per bucket the
  // rate is computed here from the goal's visitors and all visitors of each bucket.
  const rate = metric === 'conversion_rate'
  const interval = currentInterval(state)
  const minute = supportsInterval('minute')
  const whole = useQuery(
    () => (rate ? rateDivisorQuery(state, segments) : null),
    stateKey(state, 'rate-divisor', interval, rate, segments !== undefined),
  )
  const { data, error, loading, retry } = useQuery(
    () => {
      if (!realtime) return timeseriesQuery(state, rate ? 'visitors' : metric)
      if (!minute) return null
      const query = baseQuery(state, ['visitors'])
      query.date_range = [minutesAgo(REALTIME_MINUTES), nowIso()]
      query.dimensions = ['time:minute' as 'time']
      query.include = { ...query.include, time_labels: true }
      return query
    },
    stateKey(state, metric, interval, realtime),
    realtime ? REALTIME_REFRESH_MS : 0,
  )
  const notes = useNotes()
  const intervals = intervalsFor(state.period, state.custom)
  const label = (conversions && CONVERSION_LABELS[metric]) || METRIC_LABELS[metric]
  let series: Series | null = data ? toSeries(data, true) : null
  if (rate) series = series && whole.data ? ratioSeries(series, toSeries(whole.data, true)) : null
  return (
    <div class="jd-graph" data-testid="main-graph">
      <div class="jd-graph-head">
        <h2>
          {realtime ? t('Visitors per minute, last 30 minutes') : label}
          {(loading || (rate && whole.loading)) && <span class="jd-spinner" aria-label={t('Loading')} />}
        </h2>
        {!realtime && <NotesButton />}
        {!realtime && intervals.length > 1 && (
          <label>
            <span class="jd-visually-hidden">{t('Interval')}</span>
            <select
              data-testid="interval-select"
              value={interval}
              onChange={(e) =>
                navigate({ ...state, interval: e.currentTarget.value as typeof interval })
              }
            >
              {intervals.map((i) => (
                <option key={i} value={i}>
                  {INTERVAL_NAMES[i]}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {realtime && !minute ? (
        <p class="jd-muted">
          {t("The per-minute live graph needs the engine's time:minute dimension. The numbers above")}
          and the panels below refresh every {REALTIME_REFRESH_MS / 1000} seconds.
        </p>
      ) : error && !data ? (
        <ErrorNote message={error} retry={retry} />
      ) : rate && whole.error && !whole.data ? (
        <ErrorNote message={whole.error} retry={whole.retry} />
      ) : (
        <Chart
          series={series}
          metric={metric}
          label={label}
          bars={realtime}
          compareLabel={state.compare === 'year_over_year' ? t('A year earlier') : t('Previous period')}
          notes={realtime ? NO_NOTES : (notes?.annotations ?? NO_NOTES)}
        />
      )}
      {!realtime && <ImportsNote data={data} />}
    </div>
  )
}

const NO_NOTES: Note[] = []

function Chart({
  series,
  metric,
  label,
  bars,
  compareLabel,
  notes,
}: {
  series: Series | null
  metric: Metric
  label: string
  bars: boolean
  compareLabel: string
  notes: Note[]
}) {
  const { dark } = useDash()
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)

  useEffect(() => {
    const node = box.current
    if (!node || !series) return
    const accent = cssVar('--jt-chart-1', '#3b5bdb')
    const muted = cssVar('--jt-text-muted', '#5d636e')
    const grid = cssVar('--jt-border', '#dcdcd6')
    const hourly = series.labels.some((label) => label.length > 10)
    const x = series.labels.map(labelSeconds)
    // An empty minute is no bar at all (a zero-height bar strokes a line along the axis).
    const values = bars ? series.values.map((v) => (v === 0 ? null : v)) : series.values
    const data: uPlot.AlignedData = series.previous ? [x, values, series.previous] : [x, values]
    const value = (_: uPlot, v: number | null) => (v === null ? (bars ? '0' : '–') : formatMetric(metric, v))
    // Bars are centred on their minute: pad the x range by half a bucket so the first and
    // last bars are whole, and draw no dots on them (an empty minute is a missing bar).
    const half = bars && x.length > 1 ? (x[1] - x[0]) / 2 : 0
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } }
    const opts: uPlot.Options = {
      width: node.clientWidth,
      height: 240,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      fmtDate: (template) => uPlot.fmtDate(template, DATE_NAMES),
      plugins: notes.length ? [notesPlugin(notes, x)] : [],
      cursor: { points: { size: 7 }, drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true, range: (_u, min, max) => [min - half, max + half] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { ...axis, values: hourly ? '{HH}:{mm}' : (_u, ticks) => ticks.map((t) => dayTick.format(t * 1000)) },
        // Counts are whole numbers: no 0.2 ticks printed as "0, 0, 1, 1" (a new site's
        // first visitor), whether per minute or per day.
        { ...axis, size: 56, incrs: bars || WHOLE_METRICS.includes(metric) ? WHOLE_STEPS : undefined, values: (_u, ticks) => ticks.map((t) => formatMetric(metric, t)) },
      ],
      series: [
        { label: t('Time'), value: hourly ? '{YYYY}-{MM}-{DD} {HH}:{mm}' : '{YYYY}-{MM}-{DD}' },
        {
          label,
          stroke: accent,
          width: 2,
          fill: `${accent}22`,
          value,
          paths: bars ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined,
          points: { show: !bars && series.labels.length < 40 },
        },
        ...(series.previous
          ? [{ label: compareLabel, stroke: muted, width: 1.5, dash: [6, 4], value, points: { show: false } }]
          : []),
      ],
    }
    plot.current?.destroy()
    // What the tests read: the drawn x range against the first and last bucket, and dots.
    node.dataset.firstX = String(x[0] ?? '')
    node.dataset.lastX = String(x[x.length - 1] ?? '')
    node.dataset.dots = String(opts.series[1].points?.show === true)
    opts.hooks = {
      setScale: [
        (u, key) => {
          if (key !== 'x') return
          node.dataset.xMin = String(u.scales.x.min)
          node.dataset.xMax = String(u.scales.x.max)
        },
      ],
    }
    plot.current = new uPlot(opts, data, node)
    const resize = new ResizeObserver(() => {
      plot.current?.setSize({ width: node.clientWidth, height: 240 })
    })
    resize.observe(node)
    return () => {
      resize.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
  }, [series, metric, label, bars, dark, compareLabel, notes])

  if (!series) return <div class="jd-chart jd-skeleton-block" />
  const total = series.values.reduce<number>((sum, v) => sum + (v ?? 0), 0)
  return (
    <div
      class="jd-chart"
      ref={box}
      data-testid="chart"
      data-points={series.values.length}
      data-total={total}
      data-has-comparison={series.previous ? 'true' : 'false'}
    />
  )
}
