// Annotations: dated notes on the site's graph (jetrack.web.annotations_api). Editors add
// and delete them; everyone who reads the site sees them, shared links too.
import { boot } from './bootstrap'
import { sendJson, sharedList, useSharedList } from './rest'

export interface Note {
  id: number
  /** The site's local day, YYYY-MM-DD. */
  date: string
  /** HH:MM in the site's time zone, or null for the whole day. */
  time: string | null
  text: string
  can_delete?: boolean
}

export interface NoteList {
  annotations: Note[]
  can_edit: boolean
}

const list = sharedList<NoteList>(boot.annotations_url)

export function useNotes(): NoteList | null {
  return useSharedList(list)
}

export async function addNote(date: string, time: string, text: string): Promise<Note> {
  const note = await sendJson<Note>('POST', boot.annotations_url, { date, time: time || null, text })
  await list.reload()
  return note
}

export async function deleteNote(id: number): Promise<void> {
  await sendJson('DELETE', `${boot.annotations_url}/${id}`)
  await list.reload()
}
