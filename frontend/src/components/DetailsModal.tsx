import { useEffect, useRef, useState } from 'preact/hooks'
import { type FilterDimension, type Metric, REVENUE_METRICS } from '../api'
import { useDash } from '../context'
import { SHORT_METRIC_LABELS, METRIC_LABELS, cellText, cellTitle, wholeNumber } from '../format'
import { useQuery } from '../hooks'
import { breakdownQuery, stateKey } from '../queries'
import { stateFilters, withFilter } from '../state'
import { ErrorNote } from './ErrorNote'
import { ImportsNote } from './ImportsNote'
import { type Tab, rowLabel } from './Panels'
import { t, tn } from '../i18n'

export const PAGE_SIZE = 25

export function DetailsModal({ title, tab, onClose }: { title: string; tab: Tab; onClose: () => void }) {
  const { state, navigate } = useDash()
  const dialog = useRef<HTMLDialogElement>(null)
  const [page, setPage] = useState(0)
  const [search, setSearch] = useState('')
  const [term, setTerm] = useState('')
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  useEffect(() => {
    const next = search.trim()
    if (next === term) return
    const timer = setTimeout(() => {
      setTerm(next)
      setPage(0)
    }, 250)
    return () => clearTimeout(timer)
  }, [search, term])

  const dimensions = tab.labelDimension ? [tab.dimension, tab.labelDimension] : [tab.dimension]
  const metrics: Metric[] = tab.details
  const { data, error, loading, retry } = useQuery(
    () => {
      const query = breakdownQuery(state, dimensions, metrics, PAGE_SIZE, page * PAGE_SIZE)
      query.include = { ...query.include, total_rows: true }
      const filters = [...stateFilters(state), ...(tab.filters ?? [])]
      if (term) {
        filters.push(['contains', tab.dimension as FilterDimension, [term], { case_sensitive: false }])
      }
      if (filters.length) query.filters = filters
      return query
    },
    stateKey(state, tab.key, tab.dimension, page, term),
  )
  // Revenue columns only when some row has revenue (a goal with a currency).
  const shown = metrics
    .map((m, i) => ({ m, i }))
    .filter(({ m, i }) => !REVENUE_METRICS.includes(m) || (data?.results ?? []).some((r) => r.money?.[i]))
  const total = data?.meta.total_rows ?? 0
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
  const select = (value: string) => {
    dialog.current?.close()
    navigate(withFilter(state, { op: 'is', dimension: tab.dimension as FilterDimension, value }))
  }

  return (
    <dialog ref={dialog} class="jd-dialog" data-testid="details-dialog" onClose={onClose} aria-label={title}>
      <div class="jd-dialog-head">
        <h2>{title}</h2>
        <input
          type="search"
          placeholder={t('Search')}
          aria-label={t('Search')}
          data-testid="details-search"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="button" class="jd-button jd-ghost" aria-label={t('Close')} onClick={() => dialog.current?.close()}>
          ✕
        </button>
      </div>
      {error && !data ? (
        <ErrorNote message={error} retry={retry} />
      ) : (
        <div class={`jd-table-wrap ${loading ? 'jd-loading' : ''}`}>
          <table class="jd-table">
            <thead>
              <tr>
                <th scope="col" translate={tab.dataLabel ? false : undefined}>
                  {tab.label}
                </th>
                {shown.map(({ m }) => (
                  <th key={m} scope="col" title={METRIC_LABELS[m]}>
                    {tab.columnLabels?.[m] ?? SHORT_METRIC_LABELS[m] ?? METRIC_LABELS[m]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(data?.results ?? []).map((row) => (
                <tr key={row.dimensions[0]} data-testid="details-row">
                  <td translate={false}>
                    <button type="button" class="jd-link" onClick={() => select(row.dimensions[0])}>
                      {tab.icon && <span class="jd-icon">{tab.icon(row.dimensions[0])}</span>}
                      {rowLabel(tab, row)}
                    </button>
                  </td>
                  {shown.map(({ m, i }) => (
                    <td key={m} translate={false} title={cellTitle(m, row, i)}>
                      {cellText(m, row, i)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {data && data.results.length === 0 && <p class="jd-muted">{t('Nothing matches.')}</p>}
        </div>
      )}
      <ImportsNote data={data} />
      <div class="jd-pager">
        <button type="button" class="jd-button jd-ghost" disabled={page === 0} onClick={() => setPage(page - 1)}>
          {t('← Previous')}
        </button>
        <span class="jd-muted" data-testid="details-page">
          {tn('Page {page} of {pages} · {n} row', 'Page {page} of {pages} · {n} rows', total, {
            page: wholeNumber(page + 1),
            pages: wholeNumber(pages),
          })}
        </span>
        <button
          type="button"
          class="jd-button jd-ghost"
          data-testid="details-next"
          disabled={page + 1 >= pages}
          onClick={() => setPage(page + 1)}
        >
          {t('Next →')}
        </button>
      </div>
    </dialog>
  )
}
