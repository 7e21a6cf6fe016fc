// Date ranges and intervals, in the site's time zone. The named ranges the engine knows
// (day, month, year, all) are sent as they are; the others become explicit dates here. The
// dashboard's "Last 7 days" counts today, where the Stats API's "7d" (Plausible's) is the 7
// days before today, so the dashboard spells its days out.
import type { Dimension, Query } from './api'
import { DATE_RANGE_SHORTHANDS, TIME_DIMENSIONS } from './generated/schema-values'
import { locale, t } from './i18n'

export type Period =
  | 'realtime'
  | 'day'
  | 'yesterday'
  | '7d'
  | '28d'
  | '30d'
  | '91d'
  | 'month'
  | 'last_month'
  | 'year'
  | '12mo'
  | 'all'
  | 'custom'

export interface PeriodInfo {
  key: Period
  label: string
  shortcut: string
}

export const PERIODS: PeriodInfo[] = [
  { key: 'realtime', label: t('Realtime'), shortcut: 'R' },
  { key: 'day', label: t('Today'), shortcut: 'D' },
  { key: 'yesterday', label: t('Yesterday'), shortcut: 'E' },
  { key: '7d', label: t('Last 7 days'), shortcut: 'W' },
  { key: '28d', label: t('Last 28 days'), shortcut: 'F' },
  { key: '30d', label: t('Last 30 days'), shortcut: 'T' },
  { key: '91d', label: t('Last 91 days'), shortcut: 'N' },
  { key: 'month', label: t('Month to date'), shortcut: 'M' },
  { key: 'last_month', label: t('Last month'), shortcut: 'P' },
  { key: 'year', label: t('Year to date'), shortcut: 'Y' },
  { key: '12mo', label: t('Last 12 months'), shortcut: 'L' },
  { key: 'all', label: t('All time'), shortcut: 'A' },
  { key: 'custom', label: t('Custom range'), shortcut: 'C' },
]

export type Interval = 'minute' | 'hour' | 'day' | 'week' | 'month'
export const INTERVAL_NAMES: Record<Interval, string> = {
  minute: t('Minute'),
  hour: t('Hour'),
  day: t('Day'),
  week: t('Week'),
  month: t('Month'),
}
export const REALTIME_MINUTES = 30
export const CURRENT_VISITORS_MINUTES = 5

export function isPeriod(value: string | null): value is Period {
  return PERIODS.some((p) => p.key === value)
}

export function isIsoDate(value: string | null | undefined): value is string {
  return !!value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
}

export function todayIn(timezone: string, at: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at)
}

function toUtc(iso: string): Date {
  return new Date(iso + 'T00:00:00Z')
}

function fromUtc(date: Date): string {
  return date.toISOString().slice(0, 10)
}

export function addDays(iso: string, days: number): string {
  const date = toUtc(iso)
  date.setUTCDate(date.getUTCDate() + days)
  return fromUtc(date)
}

export function daysBetween(first: string, last: string): number {
  return Math.round((toUtc(last).getTime() - toUtc(first).getTime()) / 86_400_000) + 1
}

function lastMonth(today: string): [string, string] {
  const date = toUtc(today.slice(0, 7) + '-01')
  const last = new Date(date.getTime() - 86_400_000)
  return [fromUtc(last).slice(0, 7) + '-01', fromUtc(last)]
}

/** A datetime `minutes` ago, as the engine's datetime range wants it (UTC, offset given). */
export function minutesAgo(minutes: number, now: Date = new Date()): string {
  return new Date(now.getTime() - minutes * 60_000).toISOString().slice(0, 19) + 'Z'
}

export function nowIso(now: Date = new Date()): string {
  return now.toISOString().slice(0, 19) + 'Z'
}

/** The custom range's days, or the last 30 days (today included) when none are picked yet. */
export function customDays(timezone: string, custom?: [string, string]): [string, string] {
  const today = todayIn(timezone)
  return custom ?? [addDays(today, -29), today]
}

export function dateRangeFor(
  period: Period,
  timezone: string,
  custom?: [string, string],
): Query['date_range'] {
  const today = todayIn(timezone)
  switch (period) {
    case 'realtime':
      return [minutesAgo(REALTIME_MINUTES), nowIso()]
    case 'yesterday':
      return [addDays(today, -1), addDays(today, -1)]
    case 'last_month':
      return lastMonth(today)
    case 'custom':
      return customDays(timezone, custom)
    default:
      if (DATE_RANGE_SHORTHANDS.includes(period)) return period as Query['date_range']
      // A shorthand this engine does not know: spell it out.
      return explicitRange(period, today)
  }
}

function explicitRange(period: Period, today: string): [string, string] {
  const days: Partial<Record<Period, number>> = { day: 1, '7d': 7, '28d': 28, '30d': 30, '91d': 91 }
  if (days[period]) return [addDays(today, 1 - days[period]!), today]
  if (period === 'month') return [today.slice(0, 8) + '01', today]
  if (period === 'year') return [today.slice(0, 4) + '-01-01', today]
  // 12mo: this month and the 11 before it, to the end of this month.
  const [year, month] = today.split('-').map(Number)
  const first = new Date(Date.UTC(year, month - 12, 1)).toISOString().slice(0, 10)
  const last = new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10)
  return [first, last]
}

/** How many days the period spans (for choosing sensible intervals). */
function spanDays(period: Period, custom?: [string, string]): number {
  switch (period) {
    case 'realtime':
    case 'day':
    case 'yesterday':
      return 1
    case '7d':
      return 7
    case '28d':
    case '30d':
    case 'month':
    case 'last_month':
      return 31
    case '91d':
      return 91
    case 'year':
    case '12mo':
      return 365
    case 'all':
      return 1000
    case 'custom':
      return custom ? daysBetween(custom[0], custom[1]) : 30
  }
}

export function supportsInterval(interval: Interval): boolean {
  return TIME_DIMENSIONS.includes(`time:${interval}`)
}

export function intervalsFor(period: Period, custom?: [string, string]): Interval[] {
  const span = spanDays(period, custom)
  let options: Interval[]
  if (span <= 1) options = ['minute', 'hour']
  else if (span <= 7) options = ['hour', 'day']
  else if (span <= 31) options = ['day', 'week']
  else if (span <= 91) options = ['day', 'week', 'month']
  else options = ['day', 'week', 'month']
  const usable = options.filter(supportsInterval)
  return usable.length ? usable : ['day']
}

export function defaultInterval(period: Period, custom?: [string, string]): Interval {
  const options = intervalsFor(period, custom)
  const span = spanDays(period, custom)
  if (span > 91 && options.includes('month')) return 'month'
  if (span <= 1 && options.includes('hour')) return 'hour'
  return options[0]
}

export function timeDimension(interval: Interval): Dimension {
  return `time:${interval}` as Dimension
}

export function periodLabel(period: Period, custom?: [string, string]): string {
  if (period === 'custom' && custom) return `${shortDate(custom[0])} – ${shortDate(custom[1])}`
  return PERIODS.find((p) => p.key === period)?.label ?? period
}

export function shortDate(iso: string): string {
  return toUtc(iso.slice(0, 10)).toLocaleDateString(locale, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  })
}
