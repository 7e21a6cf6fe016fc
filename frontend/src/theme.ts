// Light / dark / system, kept in the `jt_theme` preference cookie that the server also reads
// (so the page is drawn in the right theme before any script runs).
import { t } from './i18n'

export type Theme = 'light' | 'dark' | 'system'
export const THEMES: Theme[] = ['light', 'dark', 'system']
export const THEME_NAMES: Record<Theme, string> = { light: t('light'), dark: t('dark'), system: t('system') }
const COOKIE = 'jt_theme'

export function currentTheme(): Theme {
  const value = document.documentElement.dataset.theme
  return value === 'light' || value === 'dark' ? value : 'system'
}

export function setTheme(theme: Theme, secure: boolean): void {
  document.documentElement.dataset.theme = theme
  const flags = `; path=/; max-age=${365 * 24 * 3600}; samesite=lax${secure ? '; secure' : ''}`
  document.cookie = `${COOKIE}=${theme}${flags}`
}

export function isDark(theme: Theme): boolean {
  if (theme === 'system') return matchMedia('(prefers-color-scheme: dark)').matches
  return theme === 'dark'
}

/** A CSS custom property of the shared stylesheet, for canvas drawing. */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim()
  return value || fallback
}
