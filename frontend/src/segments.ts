// Saved segments: named filters, personal (the account's alone) or site-wide (everyone who
// reads the site, shared links too). Served by jetrack.web.segments_api.
import { boot } from './bootstrap'
import type { Filter } from './generated/query'
import { sendJson, sharedList, useSharedList } from './rest'
import { type DashState, goalFilter, segmentGoal } from './state'

export type SegmentType = 'personal' | 'site'

export interface SavedSegment {
  id: number
  name: string
  type: SegmentType
  filters: Filter[]
  updated_at: string
  /** Absent on shared links. */
  saved_by_you?: boolean
  can_edit?: boolean
}

export interface SegmentList {
  segments: SavedSegment[]
  can_manage_site_segments: boolean
}

const list = sharedList<SegmentList>(boot.segments_url)

export function useSegments(): SegmentList | null {
  return useSharedList(list)
}

/** The saved filters of the applied segment `id`: [] without one, null while the list loads. */
export function useSegmentFilters(id: number | undefined): Filter[] | null {
  const found = useSegments()
  if (id === undefined) return []
  return found === null ? null : (found.segments.find((s) => s.id === id)?.filters ?? [])
}

/** Whether the view counts conversions: a goal filter, or a goal in the applied segment
 * (then the top stats and the graph switch as they do for a goal filter). */
export function useConversions(state: DashState): boolean {
  const segments = useSegments()?.segments
  return goalFilter(state) !== undefined || segmentGoal(state, segments)
}

export async function saveSegment(name: string, type: SegmentType, filters: Filter[]): Promise<SavedSegment> {
  const saved = await sendJson<SavedSegment>('POST', boot.segments_url, { name, type, filters })
  await list.reload()
  return saved
}

export async function changeSegment(
  id: number,
  changes: { name?: string; type?: SegmentType; filters?: Filter[] },
): Promise<SavedSegment> {
  const saved = await sendJson<SavedSegment>('PATCH', `${boot.segments_url}/${id}`, changes)
  await list.reload()
  return saved
}

export async function deleteSegment(id: number): Promise<void> {
  await sendJson('DELETE', `${boot.segments_url}/${id}`)
  await list.reload()
}
