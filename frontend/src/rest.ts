// JSON calls to the dashboard's own endpoints other than queries (segments, annotations):
// the session cookie, the CSRF header on writes, and the server's `error` as the message.
import { useEffect, useState } from 'preact/hooks'
import { QueryFailed } from './api'
import { boot } from './bootstrap'
import { t } from './i18n'

export async function sendJson<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': boot.csrf_token },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    })
  } catch {
    throw new QueryFailed(t('Jetrack cannot be reached. Check your connection and retry.'), 0)
  }
  let parsed: unknown = null
  try {
    parsed = await response.json()
  } catch {
    // not JSON: the status line says enough
  }
  if (!response.ok) {
    const message = (parsed as { error?: string } | null)?.error
    throw new QueryFailed(message ?? `the server answered ${response.status}`, response.status)
  }
  return parsed as T
}

/** A list that several components read: fetched once, fetched again after a change. */
export interface SharedList<T> {
  get: () => T | null
  load: () => Promise<void>
  reload: () => Promise<void>
  subscribe: (listener: () => void) => () => void
}

export function sharedList<T>(url: string): SharedList<T> {
  let value: T | null = null
  let pending: Promise<void> | null = null
  const listeners = new Set<() => void>()
  const reload = () => {
    pending = sendJson<T>('GET', url).then(
      (next) => {
        value = next
        listeners.forEach((listener) => listener())
      },
      () => {
        pending = null // a failed load is tried again by the next reader
      },
    )
    return pending
  }
  return {
    get: () => value,
    load: () => pending ?? reload(),
    reload,
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

/** The list's current value (null until loaded); re-renders when it changes. */
export function useSharedList<T>(list: SharedList<T>): T | null {
  const [value, setValue] = useState(list.get())
  useEffect(() => {
    const unsubscribe = list.subscribe(() => setValue(list.get()))
    void list.load().then(() => setValue(list.get()))
    return unsubscribe
  }, [list])
  return value
}
