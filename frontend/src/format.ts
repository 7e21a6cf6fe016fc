// Numbers as people read them: 1.2k visitors, 42%, 1m 05s.
import type { Metric, ResultRow } from './api'
import { locale, t } from './i18n'

const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 })
const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 })
const twoDecimals = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
const exact = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 })
// English keeps its short 1.2k; other languages write their own (1,2 Tsd., 1,2 k).
const compact = locale.startsWith('en')
  ? null
  : new Intl.NumberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 })

/** A count in full with the reader's thousands separators (216,555). */
export function wholeNumber(value: number): string {
  return whole.format(value)
}

export function compactNumber(value: number): string {
  const abs = Math.abs(value)
  if (abs < 10_000) return whole.format(value)
  if (compact) return compact.format(value)
  if (abs < 1_000_000) return `${trim(value / 1000)}k`
  if (abs < 1_000_000_000) return `${trim(value / 1_000_000)}M`
  return `${trim(value / 1_000_000_000)}B`
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '')
}

export function duration(seconds: number): string {
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`
}

export function formatMetric(metric: Metric, value: number | null | undefined): string {
  if (value === null || value === undefined) return '–'
  switch (metric) {
    case 'bounce_rate':
    case 'percentage':
    case 'conversion_rate':
    case 'group_conversion_rate':
    case 'exit_rate':
    case 'scroll_depth':
      return percent.format(value / 100)
    case 'visit_duration':
    case 'time_on_page':
      return duration(value)
    case 'views_per_visit':
      return twoDecimals.format(value)
    default:
      return compactNumber(value)
  }
}

export function exactMetric(metric: Metric, value: number | null | undefined): string {
  if (value === null || value === undefined) return t('no data')
  if (metric === 'visit_duration' || metric === 'time_on_page') return `${whole.format(value)} s`
  return exact.format(value)
}

/** Money in the page's language with the currency's minor digits (€29.90, 29,90 €, ¥3,000);
 * `short`: amounts from a thousand on in compact notation (€1.2K). */
export function moneyText(money: { value: number; currency: string }, short = false): string {
  const compactNotation = short && Math.abs(money.value) >= 1000
  try {
    return new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: money.currency,
      ...(compactNotation ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
    }).format(money.value)
  } catch {
    return `${money.currency}\u00a0${exact.format(money.value)}`
  }
}

/** The text of a row's metric at `index`: money in the page's language (€29.90, €1.2K). */
export function cellText(metric: Metric, row: Pick<ResultRow, 'metrics' | 'money'>, index: number): string {
  const money = row.money?.[index]
  if (money) return moneyText(money, true)
  return formatMetric(metric, row.metrics[index])
}

/** Its exact value, for a title: money in full (€1,234.56). */
export function cellTitle(metric: Metric, row: Pick<ResultRow, 'metrics' | 'money'>, index: number): string {
  const money = row.money?.[index]
  if (money) return moneyText(money)
  if (row.money && row.metrics[index] === null) return t('no revenue goal')
  return exactMetric(metric, row.metrics[index])
}

export const METRIC_LABELS: Record<Metric, string> = {
  visitors: t('Unique visitors'),
  visits: t('Total visits'),
  pageviews: t('Total pageviews'),
  views_per_visit: t('Views per visit'),
  bounce_rate: t('Bounce rate'),
  visit_duration: t('Visit duration'),
  events: t('Events'),
  percentage: '%',
  conversion_rate: t('Conversion rate'),
  group_conversion_rate: t('Group conversion rate'),
  exit_rate: t('Exit rate'),
  total_revenue: t('Total revenue'),
  average_revenue: t('Average revenue'),
  time_on_page: t('Time on page'),
  scroll_depth: t('Scroll depth'),
}

export const SHORT_METRIC_LABELS: Partial<Record<Metric, string>> = {
  visitors: t('Visitors'),
  visits: t('Visits'),
  pageviews: t('Pageviews'),
  bounce_rate: t('Bounce'),
  visit_duration: t('Duration'),
  time_on_page: t('Time on page'),
  scroll_depth: t('Scroll'),
  total_revenue: t('Revenue'),
  average_revenue: t('Average'),
  exit_rate: t('Exit rate'),
}

/** The top stats' and the graph's names while a goal filters the dashboard. */
export const CONVERSION_LABELS: Partial<Record<Metric, string>> = {
  visitors: t('Unique conversions'),
  events: t('Total conversions'),
  conversion_rate: t('Conversion rate'),
  total_revenue: t('Total revenue'),
  average_revenue: t('Average revenue'),
}

/** Metrics shown as percentages, whose changes are in percentage points. */
export const POINT_METRICS: Metric[] = [
  'bounce_rate',
  'percentage',
  'conversion_rate',
  'group_conversion_rate',
  'exit_rate',
]

/** Metrics where going down is good news. */
export const LOWER_IS_BETTER: Metric[] = ['bounce_rate']

const regionNames = safeDisplayNames('region')
const languageNames = safeDisplayNames('language')

function safeDisplayNames(type: 'region' | 'language'): Intl.DisplayNames | null {
  try {
    return new Intl.DisplayNames(locale, { type })
  } catch {
    return null
  }
}

export function countryName(code: string): string {
  if (!/^[A-Z]{2}$/.test(code)) return code || t('(none)')
  try {
    return regionNames?.of(code) ?? code
  } catch {
    return code
  }
}

export function flag(code: string): string {
  if (!/^[A-Z]{2}$/.test(code)) return ''
  return String.fromCodePoint(...[...code].map((c) => 0x1f1a5 + c.charCodeAt(0)))
}

export function languageName(tag: string): string {
  if (!tag) return t('(none)')
  try {
    return languageNames?.of(tag) ?? tag
  } catch {
    return tag
  }
}

// The channels jetrack.enrich files visits under, in the page's language (unknown ones as sent).
const CHANNEL_NAMES: Record<string, string> = {
  Affiliates: t('Affiliates'),
  Audio: t('Audio'),
  'Cross-network': t('Cross-network'),
  Direct: t('Direct'),
  Display: t('Display'),
  Email: t('Email'),
  'Mobile Push Notifications': t('Mobile Push Notifications'),
  'Organic Search': t('Organic Search'),
  'Organic Shopping': t('Organic Shopping'),
  'Organic Social': t('Organic Social'),
  'Organic Video': t('Organic Video'),
  'Paid Other': t('Paid Other'),
  'Paid Search': t('Paid Search'),
  'Paid Shopping': t('Paid Shopping'),
  'Paid Social': t('Paid Social'),
  'Paid Video': t('Paid Video'),
  Referral: t('Referral'),
  SMS: t('SMS'),
}

export function channelName(channel: string): string {
  return CHANNEL_NAMES[channel] ?? channel
}
