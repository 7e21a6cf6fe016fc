import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import type { Dimension, FilterDimension, Metric, ResultRow, SimpleFilter } from '../api'
import { useDash } from '../context'
import { channelName, compactNumber, countryName, exactMetric, flag, languageName } from '../format'
import { useQuery } from '../hooks'
import { breakdownQuery, stateKey } from '../queries'
import { type DashState, withFilter } from '../state'
import { DetailsModal } from './DetailsModal'
import { ErrorNote } from './ErrorNote'
import { ImportsNote } from './ImportsNote'
import { REALTIME_REFRESH_MS } from './TopStats'
import type { MapProps } from './WorldMap'
import { t } from '../i18n'

export interface Tab {
  key: string
  label: string
  dimension: Dimension
  /** A second dimension holding the label shown (region names); filters use `dimension`. */
  labelDimension?: Dimension
  /** When the dashboard is filtered to one value of `when`, list `dimension` instead. */
  drill?: { when: FilterDimension; dimension: Dimension; label: string }
  /** Metrics of the "details" table (the first is the one the panel lists). */
  details: Metric[]
  /** The panel's column header. */
  valueLabel?: string
  /** The label is data (a property's key), not a word of the dashboard: not translated. */
  dataLabel?: boolean
  format?: (value: string) => string
  icon?: (value: string) => string
  group?: string
  map?: boolean
  /** Filters added to the dashboard's for this list (and its details). */
  filters?: SimpleFilter[]
  /** Column headers of the details table, where a metric's usual name would mislead. */
  columnLabels?: Partial<Record<Metric, string>>
}

export interface PanelDef {
  key: string
  title: string
  tabs: Tab[]
}

const VISIT_METRICS: Metric[] = ['visitors', 'visits', 'bounce_rate', 'visit_duration']
const PAGE_METRICS: Metric[] = ['visitors', 'pageviews', 'bounce_rate', 'time_on_page', 'scroll_depth']
const ENTRY_METRICS: Metric[] = ['visitors', 'visits', 'bounce_rate', 'visit_duration']

export const PANELS: PanelDef[] = [
  {
    key: 'sources',
    title: t('Sources'),
    tabs: [
      { key: 'channels', label: t('Channels'), dimension: 'visit:channel', details: VISIT_METRICS, format: channelName },
      { key: 'sources', label: t('Sources'), dimension: 'visit:source', details: VISIT_METRICS },
      { key: 'referrers', label: t('Referrers'), dimension: 'visit:referrer', details: VISIT_METRICS },
      ...(
        [
          ['utm_medium', t('UTM medium')],
          ['utm_source', t('UTM source')],
          ['utm_campaign', t('UTM campaign')],
          ['utm_content', t('UTM content')],
          ['utm_term', t('UTM term')],
        ] as const
      ).map(([key, label]) => ({
        key,
        label,
        dimension: `visit:${key}` as Dimension,
        details: VISIT_METRICS,
        group: t('Campaigns'),
      })),
    ],
  },
  {
    key: 'pages',
    title: t('Pages'),
    tabs: [
      { key: 'top', label: t('Top pages'), dimension: 'event:page', details: PAGE_METRICS },
      { key: 'entry', label: t('Entry pages'), dimension: 'visit:entry_page', details: ENTRY_METRICS },
      { key: 'exit', label: t('Exit pages'), dimension: 'visit:exit_page', details: ['visitors', 'visits'] },
    ],
  },
  {
    key: 'locations',
    title: t('Locations'),
    tabs: [
      { key: 'map', label: t('Map'), dimension: 'visit:country', details: VISIT_METRICS, map: true, format: countryName, icon: flag },
      { key: 'countries', label: t('Countries'), dimension: 'visit:country', details: VISIT_METRICS, format: countryName, icon: flag },
      {
        key: 'regions',
        label: t('Regions'),
        dimension: 'visit:region',
        labelDimension: 'visit:region_name',
        details: VISIT_METRICS,
        icon: (code) => flag(code.slice(0, 2)),
      },
      { key: 'cities', label: t('Cities'), dimension: 'visit:city_name', details: VISIT_METRICS },
    ],
  },
  {
    key: 'devices',
    title: t('Devices'),
    tabs: [
      {
        key: 'browsers',
        label: t('Browsers'),
        dimension: 'visit:browser',
        drill: { when: 'visit:browser', dimension: 'visit:browser_version', label: t('Browser versions') },
        details: VISIT_METRICS,
      },
      {
        key: 'os',
        label: t('OS'),
        dimension: 'visit:os',
        drill: { when: 'visit:os', dimension: 'visit:os_version', label: t('OS versions') },
        details: VISIT_METRICS,
      },
      { key: 'devices', label: t('Devices'), dimension: 'visit:device', details: VISIT_METRICS },
      { key: 'screens', label: t('Screen sizes'), dimension: 'visit:screen', details: VISIT_METRICS },
    ],
  },
  {
    key: 'languages',
    title: t('Languages'),
    tabs: [
      { key: 'languages', label: t('Languages'), dimension: 'visit:language', details: VISIT_METRICS, format: languageName },
    ],
  },
]

export const PANEL_LIMIT = 9

/** The tab as it applies now: a browser filter turns "Browsers" into its versions. */
export function effectiveTab(tab: Tab, state: DashState): Tab {
  if (!tab.drill) return tab
  const filtered = state.filters.find((f) => f.dimension === tab.drill!.when && f.op === 'is')
  if (!filtered) return tab
  const prefix = filtered.value
  return {
    ...tab,
    label: tab.drill.label,
    dimension: tab.drill.dimension,
    drill: undefined,
    format: (value) => `${prefix} ${value || t('(none)')}`,
  }
}

export function rowLabel(tab: Tab, row: ResultRow): string {
  const raw = row.dimensions[tab.labelDimension ? 1 : 0] ?? ''
  const label = tab.format ? tab.format(raw) : raw
  return label === '' ? t('(none)') : label
}

export function Panel({ def }: { def: PanelDef }) {
  const { state, navigate } = useDash()
  const storageKey = `jd-tab-${def.key}`
  const [tabKey, setTabKey] = useState(() => localStorage.getItem(storageKey) ?? def.tabs[0].key)
  const [details, setDetails] = useState(false)
  const baseTab = def.tabs.find((t) => t.key === tabKey) ?? def.tabs[0]
  const tab = effectiveTab(baseTab, state)
  const chooseTab = (key: string) => {
    setTabKey(key)
    localStorage.setItem(storageKey, key)
  }
  const dimensions = tab.labelDimension ? [tab.dimension, tab.labelDimension] : [tab.dimension]
  const realtime = state.period === 'realtime'
  const { data, error, loading, retry } = useQuery(
    () => breakdownQuery(state, dimensions, ['visitors'], tab.map ? 250 : PANEL_LIMIT),
    stateKey(state, tab.key, tab.dimension),
    realtime ? REALTIME_REFRESH_MS : 0,
  )
  const rows = data?.results ?? []
  const filterOn = (value: string) =>
    navigate(withFilter(state, { op: 'is', dimension: tab.dimension as FilterDimension, value }))
  const grouped = def.tabs.filter((t) => t.group)
  const plain = def.tabs.filter((t) => !t.group)

  return (
    <section class="jd-card jd-panel" data-testid={`panel-${def.key}`} aria-label={def.title}>
      <div class="jd-panel-head">
        <h2>{def.title}</h2>
        {def.tabs.length > 1 && (
          <div class="jd-tabs" role="tablist">
            {plain.map((t) => (
              <button
                key={t.key}
                type="button"
                role="tab"
                aria-selected={t.key === baseTab.key}
                data-testid={`tab-${def.key}-${t.key}`}
                onClick={() => chooseTab(t.key)}
              >
                {t.key === baseTab.key ? tab.label : t.label}
              </button>
            ))}
            {grouped.length > 0 && (
              <select
                aria-label={grouped[0].group}
                data-testid={`tab-${def.key}-group`}
                class={baseTab.group ? 'jd-tab-select jd-active' : 'jd-tab-select'}
                value={baseTab.group ? baseTab.key : ''}
                onChange={(e) => chooseTab(e.currentTarget.value)}
              >
                <option value="" disabled>
                  {grouped[0].group}
                </option>
                {grouped.map((t) => (
                  <option key={t.key} value={t.key}>
                    {t.label}
                  </option>
                ))}
              </select>
            )}
          </div>
        )}
      </div>
      {error && !data ? (
        <ErrorNote message={error} retry={retry} />
      ) : tab.map ? (
        <LazyMap rows={rows} onSelect={filterOn} loading={loading} />
      ) : (
        <RowList tab={tab} rows={rows} loading={loading && !data} onSelect={filterOn} dimmed={loading} />
      )}
      <ImportsNote data={data} />
      {!tab.map && rows.length > 0 && (
        <button type="button" class="jd-details" data-testid={`details-${def.key}`} onClick={() => setDetails(true)}>
          {t('Details')}
        </button>
      )}
      {details && <DetailsModal title={t('{panel}: {tab}', { panel: def.title, tab: tab.label })} tab={tab} onClose={() => setDetails(false)} />}
    </section>
  )
}

function RowList({
  tab,
  rows,
  loading,
  dimmed,
  onSelect,
}: {
  tab: Tab
  rows: ResultRow[]
  loading: boolean
  dimmed: boolean
  onSelect: (value: string) => void
}) {
  if (loading) return <div class="jd-rows jd-skeleton-block" />
  if (rows.length === 0) return <p class="jd-muted jd-no-rows">{t('No data for this period')}</p>
  const max = Math.max(...rows.map((r) => r.metrics[0] ?? 0), 1)
  return (
    <ol class={`jd-rows ${dimmed ? 'jd-loading' : ''}`}>
      <li class="jd-row-head" aria-hidden="true">
        <span translate={tab.dataLabel ? false : undefined}>{tab.label}</span>
        <span>{tab.valueLabel ?? t('Visitors')}</span>
      </li>
      {rows.map((row) => {
        const value = row.dimensions[0]
        const visitors = row.metrics[0] ?? 0
        return (
          <li key={value}>
            <button
              type="button"
              class="jd-row"
              data-testid="row"
              data-dimension={tab.dimension}
              data-key={value}
              data-value={visitors}
              title={t('Filter by {value}', { value: rowLabel(tab, row) })}
              onClick={() => onSelect(value)}
            >
              <span class="jd-bar" style={{ width: `${(visitors / max) * 100}%` }} />
              <span class="jd-row-label" translate={false}>
                {tab.icon && <span class="jd-icon">{tab.icon(value)}</span>}
                {rowLabel(tab, row)}
              </span>
              <span class="jd-row-value" translate={false} title={exactMetric('visitors', visitors)}>
                {compactNumber(visitors)}
              </span>
            </button>
          </li>
        )
      })}
    </ol>
  )
}

function LazyMap(props: MapProps) {
  const [Map, setMap] = useState<ComponentType<MapProps> | null>(null)
  useEffect(() => {
    let alive = true
    void import('./WorldMap').then((module) => alive && setMap(() => module.WorldMap))
    return () => {
      alive = false
    }
  }, [])
  return Map ? <Map {...props} /> : <div class="jd-map jd-skeleton-block" />
}
