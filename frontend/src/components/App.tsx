import { useEffect, useMemo, useState } from 'preact/hooks'
import { boot } from '../bootstrap'
import { DashContext } from '../context'
import { PERIODS, customDays } from '../dates'
import { useDashState } from '../state'
import { type Theme, currentTheme, isDark } from '../theme'
import { EmptyState, useHasData } from './EmptyState'
import { FilterBar } from './FilterBar'
import { FunnelsPanel } from './FunnelsPanel'
import { GoalsPanel } from './GoalsPanel'
import { Header } from './Header'
import { MainGraph } from './MainGraph'
import { PANELS, Panel } from './Panels'
import { PropsPanel } from './PropsPanel'
import { TopStats } from './TopStats'
import { t } from '../i18n'

export function App() {
  const [state, navigate] = useDashState()
  const [theme, setThemeState] = useState<Theme>(currentTheme())
  const [systemDark, setSystemDark] = useState(isDark('system'))
  useEffect(() => {
    const media = matchMedia('(prefers-color-scheme: dark)')
    const onChange = () => setSystemDark(media.matches)
    media.addEventListener('change', onChange)
    return () => media.removeEventListener('change', onChange)
  }, [])
  const dark = theme === 'system' ? systemDark : theme === 'dark'
  const dash = useMemo(() => ({ state, navigate, dark }), [state, navigate, dark])

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return
      const target = event.target as HTMLElement | null
      if (target?.closest('input, select, textarea, [contenteditable], dialog')) return
      const key = event.key.toUpperCase()
      if (key === 'X') {
        navigate({ ...state, compare: state.compare === 'off' ? 'previous_period' : 'off' })
        return
      }
      const period = PERIODS.find((p) => p.shortcut === key)
      if (!period) return
      if (period.key === 'custom') {
        // Dated from the start (the last 30 days unless some are picked), then the first
        // date field takes the focus once it is rendered.
        navigate({ ...state, period: 'custom', custom: customDays(boot.timezone, state.custom), interval: undefined })
        requestAnimationFrame(() =>
          document.querySelector<HTMLInputElement>('[data-testid="custom-from"]')?.focus(),
        )
        return
      }
      navigate({ ...state, period: period.key, custom: undefined, interval: undefined })
    }
    addEventListener('keydown', onKey)
    return () => removeEventListener('keydown', onKey)
  }, [state, navigate])

  const hasData = useHasData()
  return (
    <DashContext.Provider value={dash}>
      <div class="jd-app">
        <Header theme={theme} onTheme={setThemeState} />
        {hasData === false ? (
          <EmptyState />
        ) : (
          <main class="jd-main" aria-busy={hasData === null}>
            <FilterBar />
            <section class="jd-card jd-overview" aria-label={t('Overview')}>
              <TopStats />
              <MainGraph />
            </section>
            <div class="jd-grid">
              {PANELS.filter((panel) => panel.key !== 'languages').map((panel) => (
                <Panel key={panel.key} def={panel} />
              ))}
              <GoalsPanel />
              <PropsPanel />
              {PANELS.filter((panel) => panel.key === 'languages').map((panel) => (
                <Panel key={panel.key} def={panel} />
              ))}
              <FunnelsPanel />
            </div>
          </main>
        )}
        <footer class="jd-footer">
          <span>{boot.read_only ? t('Shared dashboard · Jetrack, privacy-first analytics') : t('Jetrack, privacy-first analytics')}</span>
          <span class="jd-shortcuts" title={t('Keyboard shortcuts')}>
            {PERIODS.map((p) => (
              <span key={p.key}>
                <kbd translate={false}>{p.shortcut}</kbd> {p.label} ·{' '}
              </span>
            ))}
            <kbd translate={false}>X</kbd> {t('comparison')}
          </span>
        </footer>
      </div>
    </DashContext.Provider>
  )
}
