import { useLayoutEffect, useRef, useState } from 'preact/hooks'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import { PERIODS, type Period, customDays, periodLabel, shortDate } from '../dates'
import { compactNumber } from '../format'
import { useBeat, useQuery } from '../hooks'
import { baseQuery, currentVisitorsQuery } from '../queries'
import type { CompareMode } from '../state'
import { THEMES, THEME_NAMES, type Theme, setTheme } from '../theme'
import { t, tn } from '../i18n'

export function Header({ theme, onTheme }: { theme: Theme; onTheme: (theme: Theme) => void }) {
  const { state, navigate } = useDash()
  const nextTheme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length]
  const menu = useMenu()

  const choosePeriod = (period: Period) => {
    if (period === 'custom') {
      const custom = customDays(boot.timezone, state.custom)
      navigate({ ...state, period, custom, interval: undefined })
    } else {
      navigate({ ...state, period, custom: undefined, interval: undefined })
    }
  }
  const setCustom = (index: 0 | 1, value: string) => {
    if (!value) return
    const custom: [string, string] = [...customDays(boot.timezone, state.custom)]
    custom[index] = value
    if (custom[0] > custom[1]) custom.reverse()
    navigate({ ...state, custom, interval: undefined })
  }
  const switchSite = (domain: string) => {
    location.assign(`/sites/${encodeURIComponent(domain)}${location.search}`)
  }

  return (
    <header class="jd-header">
      <div class="jd-header-row">
        <a class="jd-brand" translate={false} href={boot.read_only ? undefined : '/sites'} data-testid="brand">
          Jet<span>rack</span>
        </a>
        {!boot.read_only && boot.sites.length > 1 ? (
          <label class="jd-site-switcher">
            <span class="jd-visually-hidden">{t('Site')}</span>
            <select
              data-testid="site-switcher"
              translate={false}
              value={boot.domain}
              onChange={(e) => switchSite(e.currentTarget.value)}
            >
              {boot.sites.map((site) => (
                <option key={site.domain} value={site.domain}>
                  {site.domain}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <h1 class="jd-site-name" data-testid="site-name" translate={false}>
            {boot.domain}
          </h1>
        )}
        <CurrentVisitors />
        {/* On a phone the actions and links fold into this menu, so the header keeps to
            two rows (styles.css); wider screens show them in the row and no button. */}
        <button
          type="button"
          class="jd-button jd-ghost jd-menu-button"
          aria-expanded={menu.open}
          aria-controls="jd-header-actions"
          data-testid="menu-button"
          ref={menu.buttonRef}
          onClick={() => menu.setOpen(!menu.open)}
        >
          <span aria-hidden="true">☰</span>
          <span class="jd-visually-hidden">{t('Menu')}</span>
        </button>
        <div
          id="jd-header-actions"
          class={menu.open ? 'jd-header-actions jd-open' : 'jd-header-actions'}
          ref={menu.panelRef}
        >
          {boot.data_from && (
            <span class="jd-muted" data-testid="data-from" title={t("Older data is deleted by the site's retention period")}>
              {t('Data from {date}', { date: shortDate(boot.data_from) })}
            </span>
          )}
          {boot.export_url && (
            <button
              type="button"
              class="jd-button jd-ghost"
              data-testid="export-button"
              title={t('Download every panel for this range and these filters as CSV files in a ZIP')}
              onClick={() => void exportPanels(baseQuery(state, ['visitors']))}
            >
              {t('Export')}
            </button>
          )}
          {boot.settings_url && (
            <a class="jd-button jd-ghost" href={boot.settings_url} data-testid="settings-link">
              {t('Settings')}
            </a>
          )}
          <button
            type="button"
            class="jd-button jd-ghost"
            data-testid="theme-toggle"
            data-theme-value={theme}
            title={t('Switch to the {theme} theme', { theme: THEME_NAMES[nextTheme] })}
            onClick={() => {
              setTheme(nextTheme, boot.secure_cookies)
              onTheme(nextTheme)
            }}
          >
            {t('Theme: {theme}', { theme: THEME_NAMES[theme] })}
          </button>
          {!boot.read_only && <AccountNav />}
        </div>
      </div>
      <div class="jd-header-row jd-controls">
        <label>
          <span class="jd-visually-hidden">{t('Date range')}</span>
          <select
            data-testid="period-select"
            value={state.period}
            onChange={(e) => choosePeriod(e.currentTarget.value as Period)}
          >
            {PERIODS.map((p) => (
              <option key={p.key} value={p.key}>
                {t('{period} ({key})', { period: p.label, key: p.shortcut })}
              </option>
            ))}
          </select>
        </label>
        {state.period === 'custom' && (
          <span class="jd-custom-range">
            <input
              type="date"
              aria-label={t('First day')}
              data-testid="custom-from"
              value={customDays(boot.timezone, state.custom)[0]}
              onChange={(e) => setCustom(0, e.currentTarget.value)}
            />
            <span aria-hidden="true">–</span>
            <input
              type="date"
              aria-label={t('Last day')}
              data-testid="custom-to"
              value={customDays(boot.timezone, state.custom)[1]}
              onChange={(e) => setCustom(1, e.currentTarget.value)}
            />
          </span>
        )}
        {state.period !== 'realtime' && state.period !== 'all' && (
          <label>
            <span class="jd-visually-hidden">{t('Compare with')}</span>
            <select
              data-testid="compare-select"
              value={state.compare}
              onChange={(e) => navigate({ ...state, compare: e.currentTarget.value as CompareMode })}
            >
              <option value="previous_period">{t('vs. previous period')}</option>
              <option value="year_over_year">{t('vs. a year earlier')}</option>
              <option value="off">{t('No comparison')}</option>
            </select>
          </label>
        )}
        {boot.imports && state.period !== 'realtime' && (
          <label
            class="jd-imports-toggle"
            title={t('Add the numbers imported from other tools where the report allows it')}
          >
            <input
              type="checkbox"
              data-testid="imports-toggle"
              checked={state.imports}
              onChange={(e) => navigate({ ...state, imports: e.currentTarget.checked })}
            />{' '}
            {t('Imported data')}
          </label>
        )}
        <span class="jd-muted jd-period-label" data-testid="period-label" translate={false}>
          {periodLabel(state.period, state.custom)}
        </span>
      </div>
    </header>
  )
}

/** The phone menu's state: closed again by Escape or a click outside it or its button. */
function useMenu() {
  const [open, setOpen] = useState(false)
  const buttonRef = useRef<HTMLButtonElement>(null)
  const panelRef = useRef<HTMLDivElement>(null)
  // A layout effect: listening as soon as the menu shows (SegmentMenu says why).
  useLayoutEffect(() => {
    if (!open) return
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') {
        setOpen(false)
        buttonRef.current?.focus()
      }
    }
    const onClick = (event: MouseEvent) => {
      const target = event.target as Node
      if (!panelRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false)
    }
    document.addEventListener('keydown', onKey)
    document.addEventListener('click', onClick)
    return () => {
      document.removeEventListener('keydown', onKey)
      document.removeEventListener('click', onClick)
    }
  }, [open])
  return { open, setOpen, buttonRef, panelRef }
}

/** The way back to the server-rendered pages, as their header has it (not on shared links). */
function AccountNav() {
  return (
    <nav class="jd-account-nav" aria-label={t('Main')} data-testid="account-nav">
      <a href="/sites">{t('Sites')}</a>
      <a href="/account">{t('Account')}</a>
      <form method="post" action="/logout">
        <input type="hidden" name="csrf_token" value={boot.csrf_token} />
        <button type="submit" class="jd-link" data-testid="logout">
          {t('Log out')}
        </button>
      </form>
    </nav>
  )
}

function CurrentVisitors() {
  const { state, navigate } = useDash()
  const { data } = useQuery(currentVisitorsQuery, 'current-visitors', 30_000)
  const count = data?.results[0]?.metrics[0] ?? null
  // Each answer is a new response object: the dot is made again and beats again.
  const beat = useBeat(data)
  return (
    <button
      type="button"
      class="jd-live"
      data-testid="current-visitors"
      data-value={count ?? ''}
      title={t('Visitors in the last 5 minutes; show the realtime view')}
      onClick={() => navigate({ ...state, period: 'realtime', custom: undefined, interval: undefined })}
    >
      <span key={beat} class="jd-pulse" aria-hidden="true" />
      {count === null ? '…' : compactNumber(count)}
      <span class="jd-live-label"> {tn('current visitor', 'current visitors', count ?? 0)}</span>
    </button>
  )
}

async function exportPanels(query: { date_range?: unknown; filters?: unknown }): Promise<void> {
  if (!boot.export_url) return
  const response = await fetch(boot.export_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': boot.csrf_token },
    body: JSON.stringify({ date_range: query.date_range, filters: query.filters ?? [] }),
  })
  if (!response.ok) {
    window.alert(t('The export failed: {status}', { status: response.status }))
    return
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement('a')
  link.href = url
  link.download = `${boot.domain}-export.zip`
  link.click()
  URL.revokeObjectURL(url)
}
