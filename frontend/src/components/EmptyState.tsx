import { useEffect, useState } from 'preact/hooks'
import { runQuery } from '../api'
import { boot } from '../bootstrap'
import { t, tx } from '../i18n'

// The top stats report the period's visitors here: any visitor proves the site has data,
// so the (whole-history) check below only runs when the period is empty.
let reported: number | null = null
const listeners = new Set<() => void>()

export function reportVisitors(visitors: number): void {
  reported = visitors
  listeners.forEach((listener) => listener())
}

/**
 * null while unknown, true once the site has any event, false for a site with no data
 * yet; the empty state then polls so the dashboard appears with the first pageview.
 */
export function useHasData(): boolean | null {
  const [hasData, setHasData] = useState<boolean | null>(null)
  const [periodVisitors, setPeriodVisitors] = useState<number | null>(reported)
  useEffect(() => {
    const listener = () => setPeriodVisitors(reported)
    listeners.add(listener)
    return () => void listeners.delete(listener)
  }, [])
  useEffect(() => {
    if (hasData) return
    if (periodVisitors !== null && periodVisitors > 0) {
      setHasData(true)
      return
    }
    let timer: number | undefined
    let alive = true
    const check = () =>
      runQuery({ metrics: ['events'], date_range: 'all' }).then(
        (response) => {
          if (!alive) return
          const events = response.results[0]?.metrics[0] ?? 0
          // No live event is no data only once the top stats found no visitor either: an
          // imported-only site's check can answer first (it counts live events only).
          if (events > 0 || reported !== null) setHasData(events > 0)
          if (events === 0) timer = window.setTimeout(check, 10_000)
        },
        () => alive && setHasData(true), // let the panels show the error
      )
    void check()
    return () => {
      alive = false
      clearTimeout(timer)
    }
  }, [hasData, periodVisitors])
  return hasData
}

export function EmptyState() {
  const [copied, setCopied] = useState(false)
  const copy = () =>
    navigator.clipboard?.writeText(boot.snippet).then(
      () => setCopied(true),
      () => setCopied(false),
    )
  return (
    <main class="jd-main">
      <section class="jd-card jd-empty" data-testid="empty-state">
        <h1>{t('No data yet')}</h1>
        {boot.read_only ? (
          <p>{t('This site has not recorded any visit yet.')}</p>
        ) : (
          <>
            <p>
              {tx(
                'Here is your snippet. Paste it into the {head} of every page of {domain}; this page updates itself when the first visit arrives.',
                { head: <code>&lt;head&gt;</code>, domain: <strong translate={false}>{boot.domain}</strong> },
              )}
            </p>
            <pre class="jd-snippet" data-testid="snippet">
              <code>{boot.snippet}</code>
            </pre>
            <button type="button" class="jd-button" onClick={copy}>
              {copied ? t('Copied') : t('Copy snippet')}
            </button>
            {boot.settings_url && (
              <p class="jd-muted">
                {tx("Outbound links, file downloads, forms, 404 pages and more: tick them in the {builder} of the site's settings.", {
                  builder: <a href={boot.settings_url}>{t('snippet builder')}</a>,
                })}
              </p>
            )}
          </>
        )}
        <p class="jd-muted jd-waiting">
          <span class="jd-pulse" aria-hidden="true" /> {t('Waiting for the first pageview…')}
        </p>
      </section>
    </main>
  )
}
