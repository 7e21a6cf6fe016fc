// Data loading: one hook that runs a query, keeps the last answer while a new one loads,
// refreshes on a timer if asked, and cancels what the user no longer looks at.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { type Priority, type Query, type QueryResponse, runQuery } from './api'

export interface Loaded {
  data: QueryResponse | null
  error: string | null
  loading: boolean
  retry: () => void
}

/**
 * `build` is called at every fetch (so a realtime window moves forward); `key` says when the
 * query changed. A null build result means "nothing to load".
 */
export function useQuery(
  build: () => Query | null,
  key: string,
  refreshMs = 0,
  priority: Priority = 'normal',
): Loaded {
  const [data, setData] = useState<QueryResponse | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [loading, setLoading] = useState(true)
  const [attempt, setAttempt] = useState(0)
  const buildRef = useRef(build)
  buildRef.current = build

  useEffect(() => {
    let controller: AbortController | null = null
    let timer: number | undefined
    let alive = true
    const load = (background: boolean) => {
      const query = buildRef.current()
      if (query === null) {
        setLoading(false)
        return
      }
      controller?.abort()
      controller = new AbortController()
      if (!background) setLoading(true)
      runQuery(query, controller.signal, priority).then(
        (response) => {
          if (!alive) return
          setData(response)
          setError(null)
          setLoading(false)
        },
        (failure: Error) => {
          if (!alive || failure.name === 'AbortError') return
          setError(failure.message)
          setLoading(false)
        },
      )
    }
    load(false)
    if (refreshMs > 0) timer = window.setInterval(() => load(true), refreshMs)
    return () => {
      alive = false
      controller?.abort()
      if (timer) clearInterval(timer)
    }
  }, [key, attempt, refreshMs, priority])

  const retry = useCallback(() => setAttempt((n) => n + 1), [])
  return { data, error, loading, retry }
}

/** How many different values `value` has had: a `key` that makes an element anew (and
 * replays its CSS animation) each time the value changes, e.g. on each fresh answer. */
export function useBeat(value: unknown): number {
  const seen = useRef<{ value: unknown; count: number }>({ value, count: 0 })
  if (seen.current.value !== value) seen.current = { value, count: seen.current.count + 1 }
  return seen.current.count
}
