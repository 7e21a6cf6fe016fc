// Funnels: a saved funnel (picked from a menu, remembered per site) as one bar per step,
// the visitors who completed it in order within a visit, what dropped off before it and
// the conversion rates; the dashboard's range and filters apply (docs/funnels.md).
import { useEffect, useState } from 'preact/hooks'
import { type FunnelAnswer, runFunnel } from '../api'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import { compactNumber, wholeNumber } from '../format'
import { baseQuery, stateKey } from '../queries'
import { ErrorNote } from './ErrorNote'
import { locale, t, tn } from '../i18n'

const percentFormat = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 })

function percent(value: number): string {
  return percentFormat.format(value / 100)
}

/** The chosen funnel's answer for the dashboard's state (null while loading). */
function useFunnel(funnelId: number | undefined) {
  const { state } = useDash()
  const [answer, setAnswer] = useState<FunnelAnswer | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [attempt, setAttempt] = useState(0)
  const key = stateKey(state, 'funnel', funnelId)
  useEffect(() => {
    if (funnelId === undefined) return
    const controller = new AbortController()
    setLoading(true)
    runFunnel(funnelId, baseQuery(state, ['visitors']), controller.signal).then(
      (found) => {
        setAnswer(found)
        setError(null)
        setLoading(false)
      },
      (failure: Error) => {
        if (failure.name === 'AbortError') return
        setError(failure.message)
        setLoading(false)
      },
    )
    return () => controller.abort()
  }, [key, attempt])
  return { answer, error, loading, retry: () => setAttempt((n) => n + 1) }
}

export function FunnelsPanel() {
  const storageKey = `jd-funnel-${boot.domain}`
  const [chosen, setChosen] = useState(() => Number(localStorage.getItem(storageKey) ?? ''))
  const funnels = boot.funnels
  const funnel = funnels.find((f) => f.id === chosen) ?? funnels[0]
  const { answer, error, loading, retry } = useFunnel(funnel?.id)
  if (!funnel && !boot.settings_url) return null // a shared view of a site without funnels
  const choose = (value: string) => {
    setChosen(Number(value))
    localStorage.setItem(storageKey, value)
  }
  const shown = answer && answer.id === funnel?.id ? answer : null
  return (
    <section class="jd-card jd-panel jd-funnel" data-testid="panel-funnels" aria-label={t('Funnels')}>
      <div class="jd-panel-head">
        <h2>{t('Funnels')}</h2>
        {funnels.length > 0 && (
          <label>
            <span class="jd-visually-hidden">{t('Funnel')}</span>
            <select
              class="jd-tab-select"
              data-testid="funnel-select"
              value={String(funnel?.id ?? '')}
              onChange={(e) => choose(e.currentTarget.value)}
            >
              {funnels.map((f) => (
                <option key={f.id} value={String(f.id)} translate={false}>
                  {f.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {!funnel ? (
        <p class="jd-muted jd-no-rows jd-funnel-empty">
          <span>
            {t('Follow visitors through your goals in order: from a visit to /pricing to a signup, say.')}{' '}
            <a class="jd-link" href={`${boot.settings_url}#funnels`} data-testid="funnels-setup">
              {t('Set up a funnel')}
            </a>
          </span>
        </p>
      ) : error && !shown ? (
        <ErrorNote message={error} retry={retry} />
      ) : !shown ? (
        <div class="jd-rows jd-skeleton-block" />
      ) : (
        <FunnelChart answer={shown} dimmed={loading} />
      )}
    </section>
  )
}

function FunnelChart({ answer, dimmed }: { answer: FunnelAnswer; dimmed: boolean }) {
  const first = answer.steps[0]?.visitors ?? 0
  return (
    <div class={`jd-funnel-body ${dimmed ? 'jd-loading' : ''}`} data-testid="funnel" data-funnel={answer.id}>
      <p class="jd-funnel-summary">
        <span>
          <strong data-testid="funnel-conversion" data-value={answer.conversion_rate}>
            {percent(answer.conversion_rate)}
          </strong>{' '}
          <span class="jd-muted">{t('completed the funnel')}</span>
        </span>
        <span class="jd-muted">
          {t('{entered} of {all} visitors entered ({share})', {
            entered: wholeNumber(answer.entering_visitors),
            all: wholeNumber(answer.all_visitors),
            share: percent(answer.entering_visitors_percentage),
          })}
        </span>
      </p>
      <ol class="jd-funnel-steps">
        {answer.steps.map((step, index) => (
          <li
            key={index}
            class="jd-funnel-step"
            data-testid="funnel-step"
            data-label={step.label}
            data-visitors={step.visitors}
            data-dropoff={step.dropoff}
            data-conversion={step.conversion_rate}
            data-conversion-step={step.conversion_rate_step}
          >
            {index > 0 && (
              <p class="jd-funnel-drop" aria-label={t('{count} dropped off', { count: wholeNumber(step.dropoff) })}>
                <span aria-hidden="true">↓</span>{' '}
                {t('{count} dropped off ({share}) · {rate} went on', {
                  count: wholeNumber(step.dropoff),
                  share: percent(step.dropoff_percentage),
                  rate: percent(step.conversion_rate_step),
                })}
              </p>
            )}
            <div class="jd-funnel-line">
              <span class="jd-funnel-label">
                <span class="jd-funnel-n">{index + 1}</span>
                <span class="jd-row-label" translate={false} title={step.label}>
                  {step.label}
                </span>
              </span>
              <span class="jd-funnel-numbers">
                <span class="jd-row-value" translate={false} title={tn('{n} visitor', '{n} visitors', step.visitors)}>
                  {compactNumber(step.visitors)}
                </span>
                <span class="jd-muted">{percent(step.conversion_rate)}</span>
              </span>
            </div>
            <div class="jd-funnel-track" aria-hidden="true">
              {step.visitors > 0 && (
                <span class="jd-funnel-bar" style={{ width: `${(step.visitors / first) * 100}%` }} />
              )}
            </div>
          </li>
        ))}
      </ol>
    </div>
  )
}
