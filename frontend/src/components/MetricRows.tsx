// A panel list with several numbers per row (conversions, totals, rates, revenue): the
// first column's value draws the bar; revenue reads as the engine formatted it.
import type { Metric, ResultRow } from '../api'
import { cellText, cellTitle } from '../format'
import { type Tab, rowLabel } from './Panels'
import { t } from '../i18n'

export interface Column {
  metric: Metric
  /** The short header shown above the column. */
  label: string
}

export function MetricRows({
  tab,
  columns,
  rows,
  loading,
  dimmed,
  empty,
  onSelect,
}: {
  tab: Tab
  columns: Column[]
  rows: ResultRow[]
  loading: boolean
  dimmed: boolean
  empty: string
  onSelect: (value: string) => void
}) {
  if (loading) return <div class="jd-rows jd-skeleton-block" />
  if (rows.length === 0) return <p class="jd-muted jd-no-rows">{empty}</p>
  const max = Math.max(...rows.map((r) => r.metrics[0] ?? 0), 1)
  return (
    <ol class={`jd-rows ${columns.length > 3 ? 'jd-rows-wide' : ''} ${dimmed ? 'jd-loading' : ''}`}>
      <li class="jd-mrow-head" aria-hidden="true">
        <span translate={tab.dataLabel ? false : undefined}>{tab.label}</span>
        {columns.map((c) => (
          <span key={c.metric} data-col={c.metric}>
            {c.label}
          </span>
        ))}
      </li>
      {rows.map((row) => {
        const value = row.dimensions[0]
        const first = row.metrics[0] ?? 0
        const numbers = Object.fromEntries(columns.map((c, i) => [`data-${c.metric}`, row.metrics[i] ?? '']))
        return (
          <li key={value}>
            <button
              type="button"
              class="jd-row jd-mrow"
              data-testid="row"
              data-dimension={tab.dimension}
              data-key={value}
              data-value={first}
              {...numbers}
              title={t('Filter by {value}', { value: rowLabel(tab, row) })}
              onClick={() => onSelect(value)}
            >
              <span class="jd-mrow-label">
                <span class="jd-bar" style={{ width: `${(first / max) * 100}%` }} />
                <span class="jd-row-label" translate={false}>{rowLabel(tab, row)}</span>
              </span>
              {columns.map((c, i) => (
                <span key={c.metric} class="jd-row-value" translate={false} data-col={c.metric} title={cellTitle(c.metric, row, i)}>
                  {cellText(c.metric, row, i)}
                </span>
              ))}
            </button>
          </li>
        )
      })}
    </ol>
  )
}
