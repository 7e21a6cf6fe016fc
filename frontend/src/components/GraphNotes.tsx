import { useEffect, useRef, useState } from 'preact/hooks'
import '../segments.css'
import type uPlot from 'uplot'
import { type Note, addNote, deleteNote, useNotes } from '../annotations'
import { boot } from '../bootstrap'
import { todayIn } from '../dates'
import { t } from '../i18n'

/** A note's moment as the graph's x values count them: site wall time read as UTC. */
function noteSeconds(note: Note): number {
  return Date.parse(`${note.date}T${note.time ?? '00:00'}:00Z`) / 1000
}

/** The bucket (its x) a moment falls in, or null outside the drawn range. */
export function bucketOf(xs: number[], t: number): number | null {
  if (xs.length === 0 || t < xs[0]) return null
  let i = 0
  while (i + 1 < xs.length && xs[i + 1] <= t) i++
  const span = i + 1 < xs.length ? xs[i + 1] - xs[i] : xs.length > 1 ? xs[i] - xs[i - 1] : 86400
  return t < xs[i] + span ? xs[i] : null
}

function label(note: Note): string {
  return note.time ? `${note.date} ${note.time}` : note.date
}

/**
 * uPlot plugin: a dashed line and a marker per bucket with notes; hovering, focusing or
 * tapping a marker shows its notes. Text goes in with textContent only: a note is
 * whatever an editor typed, and a shared link shows it to anyone.
 */
export function notesPlugin(notes: Note[], xs: number[]): uPlot.Plugin {
  const byBucket = new Map<number, Note[]>()
  for (const note of notes) {
    const x = bucketOf(xs, noteSeconds(note))
    if (x !== null) byBucket.set(x, [...(byBucket.get(x) ?? []), note])
  }
  let layer: HTMLDivElement | null = null
  let tip: HTMLDivElement | null = null
  let pinned: HTMLButtonElement | null = null
  const show = (marker: HTMLButtonElement, group: Note[]) => {
    if (!tip) return
    tip.replaceChildren(
      ...group.map((note) => {
        const line = document.createElement('p')
        const when = document.createElement('strong')
        when.textContent = label(note)
        line.append(when, ` ${note.text}`)
        return line
      }),
    )
    tip.hidden = false
    const left = Number.parseFloat(marker.style.left)
    const width = marker.parentElement?.clientWidth ?? 0
    tip.style.left = `${Math.max(0, Math.min(left - 8, width - tip.offsetWidth))}px`
  }
  const hide = () => {
    if (tip && !pinned) tip.hidden = true
  }
  return {
    hooks: {
      init: [
        (u) => {
          layer = document.createElement('div')
          layer.className = 'jd-notes-layer'
          tip = document.createElement('div')
          tip.className = 'jd-note-tip'
          tip.dataset.testid = 'note-tip'
          tip.setAttribute('role', 'tooltip')
          tip.hidden = true
          for (const [x, group] of byBucket) {
            const marker = document.createElement('button')
            marker.type = 'button'
            marker.className = 'jd-note-marker'
            marker.dataset.testid = 'note-marker'
            marker.dataset.x = String(x)
            marker.dataset.count = String(group.length)
            marker.setAttribute('aria-label', group.map((n) => t('Note {when}: {text}', { when: label(n), text: n.text })).join('; '))
            marker.textContent = group.length > 1 ? String(group.length) : ''
            marker.addEventListener('mouseenter', () => show(marker, group))
            marker.addEventListener('focus', () => show(marker, group))
            marker.addEventListener('mouseleave', hide)
            marker.addEventListener('blur', hide)
            marker.addEventListener('click', () => {
              pinned = pinned === marker ? null : marker
              if (pinned) show(marker, group)
              else hide()
            })
            layer.append(marker)
          }
          layer.append(tip)
          u.over.append(layer)
        },
      ],
      draw: [
        (u) => {
          const ctx = u.ctx
          ctx.save()
          ctx.strokeStyle = getComputedStyle(u.root).getPropertyValue('--jt-warning').trim() || '#e8590c'
          ctx.setLineDash([4, 4])
          ctx.lineWidth = 1
          for (const x of byBucket.keys()) {
            const left = Math.round(u.valToPos(x, 'x', true)) + 0.5
            ctx.beginPath()
            ctx.moveTo(left, u.bbox.top)
            ctx.lineTo(left, u.bbox.top + u.bbox.height)
            ctx.stroke()
          }
          ctx.restore()
          for (const marker of layer?.querySelectorAll<HTMLButtonElement>('.jd-note-marker') ?? []) {
            marker.style.left = `${u.valToPos(Number(marker.dataset.x), 'x')}px`
          }
        },
      ],
    },
  }
}

/** The graph's notes: a list for everyone, adding and deleting for editors. */
export function NotesButton() {
  const notes = useNotes()
  const [open, setOpen] = useState(false)
  const count = notes?.annotations.length ?? 0
  if (!notes || (count === 0 && !notes.can_edit)) return null
  return (
    <>
      <button
        type="button"
        class="jd-button jd-ghost jd-notes-button"
        data-testid="notes-button"
        title={t('Dated notes drawn on the graph')}
        onClick={() => setOpen(true)}
      >
        {t('Notes')}
        {count ? ` (${count})` : ''}
      </button>
      {open && <NotesDialog onClose={() => setOpen(false)} />}
    </>
  )
}

function NotesDialog({ onClose }: { onClose: () => void }) {
  const notes = useNotes()
  const dialog = useRef<HTMLDialogElement>(null)
  const [date, setDate] = useState(todayIn(boot.timezone))
  const [time, setTime] = useState('')
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  const run = async (work: () => Promise<unknown>) => {
    setBusy(true)
    setError(null)
    try {
      await work()
      return true
    } catch (failure) {
      setError((failure as Error).message)
      return false
    } finally {
      setBusy(false)
    }
  }
  const submit = async (event: Event) => {
    event.preventDefault()
    if (await run(() => addNote(date, time, text))) setText('')
  }
  const list = notes?.annotations ?? []
  return (
    <dialog ref={dialog} class="jd-dialog jd-form-dialog" data-testid="notes-dialog" onClose={onClose} aria-label={t('Notes')}>
      <div class="jd-dialog-head">
        <h2>{t('Notes on the graph')}</h2>
        <button type="button" class="jd-button jd-ghost" onClick={() => dialog.current?.close()}>
          {t('Close')}
        </button>
      </div>
      {list.length === 0 ? (
        <p class="jd-muted">{t('No notes yet. A note marks a day on the graph: a launch, a price change, an outage.')}</p>
      ) : (
        <ul class="jd-notes" data-testid="notes-list">
          {[...list].reverse().map((note) => (
            <li key={note.id} data-testid="note">
              <span class="jd-note-when">{label(note)}</span>
              <span class="jd-note-text">{note.text}</span>
              {note.can_delete && (
                <button
                  type="button"
                  class="jd-link"
                  data-testid="note-delete"
                  aria-label={t('Delete the note of {when}', { when: label(note) })}
                  disabled={busy}
                  onClick={() => void run(() => deleteNote(note.id))}
                >
                  {t('Delete')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {notes?.can_edit && (
        <form class="jd-note-form" onSubmit={(event) => void submit(event)}>
          <label class="jd-field">
            <span>{t('Day')}</span>
            <input type="date" required value={date} data-testid="note-date" onInput={(e) => setDate(e.currentTarget.value)} />
          </label>
          <label class="jd-field">
            <span>{t('Time (optional)')}</span>
            <input type="time" value={time} data-testid="note-time" onInput={(e) => setTime(e.currentTarget.value)} />
          </label>
          <label class="jd-field jd-note-text-field">
            <span>{t('Note')}</span>
            <input
              type="text"
              required
              maxLength={500}
              value={text}
              placeholder={t('Launched on Product Hunt')}
              data-testid="note-text"
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          <button type="submit" class="jd-button" data-testid="note-add" disabled={busy}>
            {t('Add note')}
          </button>
        </form>
      )}
      {error && (
        <p class="jd-form-error" role="alert" data-testid="note-error">
          {error}
        </p>
      )}
    </dialog>
  )
}
