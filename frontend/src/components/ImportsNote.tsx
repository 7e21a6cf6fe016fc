// A panel whose query asked for the site's imported history (include.imports) but whose
// answer leaves it out (meta.imports_skip_reason: the imported tables have no such
// dimension, filter or metric, or the interval is shorter than a day) says so, so a site
// with only imported data does not read an empty or short list as "nothing happened".
import type { QueryResponse } from '../api'
import { t } from '../i18n'

/** The note to show for an answer, or null (imports included, not asked, or none to add). */
export function importsNote(data: QueryResponse | null): string | null {
  if (!data || data.meta.imports_included !== false) return null
  const reason = data.meta.imports_skip_reason
  if (reason === 'unsupported_interval') return t('Imported data is not included at this interval')
  if (reason === 'unsupported_query') return t('Imported data is not included here')
  return null
}

export function ImportsNote({ data }: { data: QueryResponse | null }) {
  const note = importsNote(data)
  if (note === null) return null
  return (
    <p class="jd-muted jd-imports-note" data-testid="imports-note" title={String(data?.meta.imports_warning ?? '')}>
      {note}
    </p>
  )
}
