// Properties: a breakdown of any custom property the site's events carry, for the
// filtered goal (with its conversion rate) or for all events (with each value's share).
import { useEffect, useState } from 'preact/hooks'
import { type Dimension, type FilterDimension, type Metric, type SimpleFilter, propKeys } from '../api'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import { dateRangeFor } from '../dates'
import { useQuery } from '../hooks'
import { breakdownQuery, stateKey } from '../queries'
import { useConversions } from '../segments'
import { PROPS_PREFIX, withFilter } from '../state'
import { DetailsModal } from './DetailsModal'
import { ErrorNote } from './ErrorNote'
import { ImportsNote } from './ImportsNote'
import { CONVERSION_COLUMNS, CONVERSION_HEADERS } from './GoalsPanel'
import { type Column, MetricRows } from './MetricRows'
import { PANEL_LIMIT, type Tab } from './Panels'
import { t } from '../i18n'

const SHARE_COLUMNS: Column[] = [
  { metric: 'visitors', label: t('Visitors') },
  { metric: 'events', label: t('Events') },
  { metric: 'percentage', label: '%' },
]

/** The property keys seen in the dashboard's range (null while loading). */
function usePropKeys(): { keys: string[] | null; error: string | null; retry: () => void } {
  const { state } = useDash()
  const [keys, setKeys] = useState<string[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [attempt, setAttempt] = useState(0)
  const range = dateRangeFor(state.period, boot.timezone, state.custom)
  const rangeKey = JSON.stringify(range)
  useEffect(() => {
    const controller = new AbortController()
    propKeys(range, controller.signal).then(
      (found) => {
        setKeys(found)
        setError(null)
      },
      (failure: Error) => {
        if (failure.name !== 'AbortError') setError(failure.message)
      },
    )
    return () => controller.abort()
  }, [rangeKey, attempt])
  return { keys, error, retry: () => setAttempt((n) => n + 1) }
}

export function PropsPanel() {
  const { state, navigate } = useDash()
  const storageKey = `jd-prop-${boot.domain}`
  const [chosen, setChosen] = useState(() => localStorage.getItem(storageKey) ?? '')
  const [details, setDetails] = useState(false)
  const found = usePropKeys()
  const keys = found.keys ?? []
  const key = keys.includes(chosen) ? chosen : keys[0]
  const goal = useConversions(state)
  const columns = goal ? CONVERSION_COLUMNS : SHARE_COLUMNS
  const dimension = `${PROPS_PREFIX}${key ?? ''}` as Dimension
  // Without a goal most events (pageviews) lack the key: list only the events that have it.
  const filters: SimpleFilter[] | undefined = goal
    ? undefined
    : [['is_not', dimension as FilterDimension, ['(none)']]]
  const tab: Tab = {
    key: 'props',
    label: key ?? t('Property'),
    dataLabel: key !== undefined,
    dimension,
    details: columns.map((c) => c.metric) as Metric[],
    filters,
    columnLabels: goal ? CONVERSION_HEADERS : { visitors: t('Visitors'), events: t('Events') },
  }
  const { data, error, loading, retry } = useQuery(
    () => {
      if (!key) return null
      const query = breakdownQuery(state, [dimension], tab.details, PANEL_LIMIT)
      if (filters) query.filters = [...(query.filters ?? []), ...filters]
      return query
    },
    stateKey(state, 'props', key, goal),
  )
  const rows = key ? (data?.results ?? []) : []
  const choose = (next: string) => {
    setChosen(next)
    localStorage.setItem(storageKey, next)
  }
  const filterOn = (value: string) =>
    navigate(withFilter(state, { op: 'is', dimension: dimension as FilterDimension, value }))
  const failure = found.error ?? (error && !data ? error : null)

  return (
    <section class="jd-card jd-panel" data-testid="panel-props" aria-label={t('Properties')}>
      <div class="jd-panel-head">
        <h2>{t('Properties')}</h2>
        {keys.length > 0 && (
          <label class="jd-prop-pick">
            <span class="jd-visually-hidden">{t('Property')}</span>
            <select
              class="jd-tab-select"
              data-testid="prop-select"
              value={key}
              onChange={(e) => choose(e.currentTarget.value)}
            >
              {keys.map((k) => (
                <option key={k} value={k} translate={false}>
                  {k}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {failure ? (
        <ErrorNote message={failure} retry={found.error ? found.retry : retry} />
      ) : found.keys !== null && keys.length === 0 ? (
        <p class="jd-muted jd-no-rows">{t('No custom properties in this period')}</p>
      ) : (
        <MetricRows
          tab={tab}
          columns={columns}
          rows={rows}
          loading={found.keys === null || (loading && !data)}
          dimmed={loading}
          empty={t('No data for this period')}
          onSelect={filterOn}
        />
      )}
      <ImportsNote data={data} />
      {rows.length > 0 && (
        <button type="button" class="jd-details" data-testid="details-props" onClick={() => setDetails(true)}>
          {t('Details')}
        </button>
      )}
      {details && <DetailsModal title={t('Properties: {key}', { key: tab.label })} tab={tab} onClose={() => setDetails(false)} />}
    </section>
  )
}
