// Goal conversions: per goal its unique and total conversions and conversion rate, and
// the revenue of goals with a currency; with a goal that the tracker sends itself
// (outbound links, downloads, 404s, forms) filtered, the links, files or paths that
// completed it.
import { useState } from 'preact/hooks'
import type { Dimension, FilterDimension, Metric } from '../api'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import { useQuery } from '../hooks'
import { breakdownQuery, stateKey } from '../queries'
import { PROPS_PREFIX, goalFilter, withFilter } from '../state'
import { DetailsModal } from './DetailsModal'
import { ErrorNote } from './ErrorNote'
import { ImportsNote } from './ImportsNote'
import { type Column, MetricRows } from './MetricRows'
import { PANEL_LIMIT, type Tab } from './Panels'
import { REALTIME_REFRESH_MS } from './TopStats'
import { t } from '../i18n'

export const CONVERSION_COLUMNS: Column[] = [
  { metric: 'visitors', label: t('Uniques') },
  { metric: 'events', label: t('Total') },
  { metric: 'conversion_rate', label: t('CR') },
]

/** Shown when some goal of the list has a currency (a revenue goal), as in Plausible. */
export const REVENUE_COLUMNS: Column[] = [
  { metric: 'total_revenue', label: t('Revenue') },
  { metric: 'average_revenue', label: t('Average') },
]

export const CONVERSION_HEADERS: Partial<Record<Metric, string>> = {
  visitors: t('Uniques'),
  events: t('Total'),
  conversion_rate: t('CR'),
  total_revenue: t('Revenue'),
  average_revenue: t('Average'),
}

/** Goals the tracker sends itself, and the property naming the link, file or page. */
export const SPECIAL_GOALS: Record<string, { prop: string; label: string }> = {
  'Outbound Link: Click': { prop: 'url', label: t('URL') },
  'Cloaked Link: Click': { prop: 'url', label: t('URL') },
  'File Download': { prop: 'url', label: t('File') },
  '404': { prop: 'path', label: t('Path') },
  'Form: Submission': { prop: 'path', label: t('Form page') },
}

export function goalsTab(goal: string | undefined): Tab {
  const metrics = [...CONVERSION_COLUMNS, ...REVENUE_COLUMNS].map((c) => c.metric)
  const special = goal === undefined ? undefined : SPECIAL_GOALS[goal]
  if (special) {
    return {
      key: `goal-${special.prop}`,
      label: special.label,
      dimension: `${PROPS_PREFIX}${special.prop}` as Dimension,
      details: metrics,
      columnLabels: CONVERSION_HEADERS,
    }
  }
  return { key: 'goals', label: t('Goal'), dimension: 'event:goal', details: metrics, columnLabels: CONVERSION_HEADERS }
}

export function GoalsPanel() {
  const { state, navigate } = useDash()
  const [details, setDetails] = useState(false)
  const filtered = goalFilter(state)
  const tab = goalsTab(filtered?.op === 'is' ? filtered.value : undefined)
  const metrics = tab.details
  const { data, error, loading, retry } = useQuery(
    () => breakdownQuery(state, [tab.dimension], metrics, PANEL_LIMIT),
    stateKey(state, 'goals', tab.dimension),
    state.period === 'realtime' ? REALTIME_REFRESH_MS : 0,
  )
  const rows = data?.results ?? []
  // Revenue columns for revenue goals only: rows of other goals have none (null).
  const revenue = rows.some((row) => row.money?.some((m) => m !== null))
  const columns = revenue ? [...CONVERSION_COLUMNS, ...REVENUE_COLUMNS] : CONVERSION_COLUMNS
  const filterOn = (value: string) =>
    navigate(withFilter(state, { op: 'is', dimension: tab.dimension as FilterDimension, value }))
  const title = t('Goal conversions')
  return (
    <section class="jd-card jd-panel" data-testid="panel-goals" aria-label={title}>
      <div class="jd-panel-head">
        <h2>{title}</h2>
        {tab.dimension !== 'event:goal' && filtered && (
          <span class="jd-muted jd-panel-note" data-testid="goals-drill">
            {filtered.value} by {tab.label.toLowerCase()}
          </span>
        )}
      </div>
      {error && !data ? (
        <ErrorNote message={error} retry={retry} />
      ) : (
        <MetricRows
          tab={tab}
          columns={columns}
          rows={rows}
          loading={loading && !data}
          dimmed={loading}
          empty={t('No conversions in this period')}
          onSelect={filterOn}
        />
      )}
      <ImportsNote data={data} />
      {rows.length === 0 && !loading && !filtered && boot.settings_url && (
        <a class="jd-link jd-panel-hint" href={`${boot.settings_url}#goals`}>
          {t('Set up goals')}
        </a>
      )}
      {rows.length > 0 && (
        <button type="button" class="jd-details" data-testid="details-goals" onClick={() => setDetails(true)}>
          {t('Details')}
        </button>
      )}
      {details && <DetailsModal title={t('{panel}: {tab}', { panel: title, tab: tab.label })} tab={tab} onClose={() => setDetails(false)} />}
    </section>
  )
}
