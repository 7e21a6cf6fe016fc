import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import '../segments.css'
import { boot } from '../bootstrap'
import { useDash } from '../context'
import type { Filter } from '../generated/query'
import { type SavedSegment, type SegmentType, changeSegment, deleteSegment, saveSegment, useSegments } from '../segments'
import { type DashState, toQueryFilters } from '../state'
import { t } from '../i18n'

/** One simple filter in words ("Country is Germany"); FilterBar knows the names. */
export type DescribeFilter = (op: string, dimension: string, values: string[]) => string

/** What a segment filters, in words ("Country is Germany · Device is Mobile"). */
function describeFilters(filters: Filter[], describe: DescribeFilter): string {
  return filters
    .map((filter) =>
      filter.length >= 3 && typeof filter[1] === 'string' && Array.isArray(filter[2])
        ? describe(String(filter[0]), filter[1], filter[2].map(String))
        : t('a combined filter'),
    )
    .join(' · ')
}

/** The filters on screen, the applied segment's included: what "save" would save. */
function currentFilters(state: DashState, applied: SavedSegment | undefined): Filter[] {
  return [...(applied?.filters ?? []), ...toQueryFilters(state.filters)]
}

type Editing = { segment: SavedSegment | null } | null

export function SegmentMenu({ describe }: { describe: DescribeFilter }) {
  const { state, navigate } = useDash()
  const list = useSegments()
  const [open, setOpen] = useState(false)
  const [editing, setEditing] = useState<Editing>(null)
  const box = useRef<HTMLDivElement>(null)
  // A layout effect: the listeners are there as soon as the menu is (an effect runs after
  // the next paint, and an Escape pressed before that left the menu open).
  useLayoutEffect(() => {
    if (!open) return
    const onDown = (event: Event) => {
      if (!box.current?.contains(event.target as Node)) setOpen(false)
    }
    const onKey = (event: KeyboardEvent) => event.key === 'Escape' && setOpen(false)
    addEventListener('pointerdown', onDown)
    addEventListener('keydown', onKey)
    return () => {
      removeEventListener('pointerdown', onDown)
      removeEventListener('keydown', onKey)
    }
  }, [open])

  const segments = list?.segments ?? []
  if (boot.read_only && segments.length === 0) return null
  const applied = segments.find((s) => s.id === state.segment)
  const filters = currentFilters(state, applied)
  const apply = (segment: SavedSegment) => {
    setOpen(false)
    navigate({ ...state, segment: segment.id, filters: [] })
  }
  const groups: [string, SavedSegment[]][] = [
    [t('Personal'), segments.filter((s) => s.type === 'personal')],
    [t('Site'), segments.filter((s) => s.type === 'site')],
  ]
  return (
    <div class="jd-menu-wrap" ref={box}>
      <button
        type="button"
        class="jd-button jd-ghost"
        aria-haspopup="true"
        aria-expanded={open}
        data-testid="segment-menu-button"
        onClick={() => setOpen(!open)}
      >
        {t('Segments ▾')}
      </button>
      {open && (
        <div class="jd-menu" data-testid="segment-menu">
          {segments.length === 0 && (
            <p class="jd-muted jd-menu-note">{t('No segments yet: filter the dashboard, then save the filters as a segment.')}</p>
          )}
          {groups.map(([label, members]) =>
            members.length === 0 ? null : (
              <div key={label} role="group" aria-label={`${label} segments`}>
                <p class="jd-menu-heading">{label}</p>
                {members.map((segment) => (
                  <div class="jd-menu-item" key={segment.id}>
                    <button
                      type="button"
                      class="jd-menu-apply"
                      data-testid="segment-apply"
                      data-name={segment.name}
                      aria-current={segment.id === state.segment}
                      onClick={() => apply(segment)}
                    >
                      <span>{segment.name}</span>
                      <small class="jd-muted">{describeFilters(segment.filters, describe)}</small>
                    </button>
                    {segment.can_edit && (
                      <button
                        type="button"
                        class="jd-link"
                        data-testid="segment-edit"
                        aria-label={t('Edit segment {name}', { name: segment.name })}
                        onClick={() => {
                          setOpen(false)
                          setEditing({ segment })
                        }}
                      >
                        {t('Edit')}
                      </button>
                    )}
                  </div>
                ))}
              </div>
            ),
          )}
          {!boot.read_only && (
            <button
              type="button"
              class="jd-menu-action"
              data-testid="segment-save-open"
              disabled={filters.length === 0}
              title={filters.length === 0 ? t('Filter the dashboard first') : undefined}
              onClick={() => {
                setOpen(false)
                setEditing({ segment: null })
              }}
            >
              {t('Save current filters as a segment…')}
            </button>
          )}
        </div>
      )}
      {editing && (
        <SegmentDialog
          segment={editing.segment}
          filters={filters}
          describe={describe}
          canManageSite={list?.can_manage_site_segments ?? false}
          onClose={() => setEditing(null)}
        />
      )}
    </div>
  )
}

function SegmentDialog({
  segment,
  filters,
  describe,
  canManageSite,
  onClose,
}: {
  segment: SavedSegment | null
  filters: Filter[]
  describe: DescribeFilter
  canManageSite: boolean
  onClose: () => void
}) {
  const { state, navigate } = useDash()
  const dialog = useRef<HTMLDialogElement>(null)
  const [name, setName] = useState(segment?.name ?? describeFilters(filters, describe).slice(0, 255))
  const [type, setType] = useState<SegmentType>(segment?.type ?? 'personal')
  const [replace, setReplace] = useState(false)
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  const run = async (work: () => Promise<DashState | null>) => {
    setBusy(true)
    setError(null)
    try {
      const next = await work()
      dialog.current?.close()
      if (next) navigate(next)
    } catch (failure) {
      setError((failure as Error).message)
      setBusy(false)
    }
  }
  const submit = (event: Event) => {
    event.preventDefault()
    void run(async () => {
      if (!segment) {
        const saved = await saveSegment(name, type, filters)
        return { ...state, segment: saved.id, filters: [] }
      }
      const changes = { name, type, ...(replace ? { filters } : {}) }
      await changeSegment(segment.id, changes)
      return replace && state.segment === segment.id ? { ...state, filters: [] } : null
    })
  }
  const remove = () => {
    if (!segment) return
    if (!confirming) {
      setConfirming(true)
      return
    }
    void run(async () => {
      await deleteSegment(segment.id)
      return state.segment === segment.id ? { ...state, segment: undefined } : null
    })
  }
  const title = segment ? t('Edit segment') : t('Save as a segment')
  return (
    <dialog ref={dialog} class="jd-dialog jd-form-dialog" data-testid="segment-dialog" onClose={onClose} aria-label={title}>
      <form onSubmit={submit}>
        <div class="jd-dialog-head">
          <h2>{title}</h2>
          <button type="button" class="jd-button jd-ghost" onClick={() => dialog.current?.close()}>
            {t('Close')}
          </button>
        </div>
        <label class="jd-field">
          <span>{t('Name')}</span>
          <input
            type="text"
            required
            maxLength={255}
            value={name}
            data-testid="segment-name"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <fieldset class="jd-field">
          <legend>{t('Who sees it')}</legend>
          <label>
            <input type="radio" name="segment-type" checked={type === 'personal'} onChange={() => setType('personal')} />{' '}
            {t('Personal: only you')}
          </label>
          <label class={canManageSite ? undefined : 'jd-muted'}>
            <input
              type="radio"
              name="segment-type"
              data-testid="segment-type-site"
              checked={type === 'site'}
              disabled={!canManageSite}
              onChange={() => setType('site')}
            />{' '}
            {t('Site: everyone who can see this dashboard, shared links too')}
            {!canManageSite && ` ${t('(editors, admins and owners create these)')}`}
          </label>
        </fieldset>
        <p class="jd-muted jd-segment-filters" data-testid="segment-filters">
          {t('Filters: {filters}', {
            filters: describeFilters(segment && !replace ? segment.filters : filters, describe) || t('none'),
          })}
        </p>
        {segment && filters.length > 0 && (
          <label class="jd-check">
            <input type="checkbox" checked={replace} onChange={(e) => setReplace(e.currentTarget.checked)} /> {t('Replace its filters')}
            with the ones on screen
          </label>
        )}
        {error && (
          <p class="jd-form-error" role="alert" data-testid="segment-error">
            {error}
          </p>
        )}
        <div class="jd-dialog-actions">
          {segment && (
            <button type="button" class="jd-button jd-danger" data-testid="segment-delete" disabled={busy} onClick={remove}>
              {confirming ? t('Really delete?') : t('Delete')}
            </button>
          )}
          <button type="submit" class="jd-button" data-testid="segment-save" disabled={busy}>
            {segment ? t('Save changes') : t('Save segment')}
          </button>
        </div>
      </form>
    </dialog>
  )
}
