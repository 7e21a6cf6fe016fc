// What every part of the dashboard reads: the URL state and how to change it.
import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { DashState } from './state'

export interface Dash {
  state: DashState
  navigate: (next: DashState) => void
  dark: boolean
}

export const DashContext = createContext<Dash | null>(null)

export function useDash(): Dash {
  const dash = useContext(DashContext)
  if (!dash) throw new Error('useDash outside the dashboard')
  return dash
}
