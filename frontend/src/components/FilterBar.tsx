import { useDash } from '../context'
import { countryName, languageName } from '../format'
import { type DashFilter, PROPS_PREFIX, withoutFilter } from '../state'

const NAMES: Record<string, string> = {
  'visit:channel': 'Channel',
  'visit:source': 'Source',
  'visit:referrer': 'Referrer',
  'visit:utm_medium': 'UTM medium',
  'visit:utm_source': 'UTM source',
  'visit:utm_campaign': 'UTM campaign',
  'visit:utm_content': 'UTM content',
  'visit:utm_term': 'UTM term',
  'event:page': 'Page',
  'visit:entry_page': 'Entry page',
  'visit:exit_page': 'Exit page',
  'visit:country': 'Country',
  'visit:region': 'Region',
  'visit:city': 'City',
  'visit:browser': 'Browser',
  'visit:browser_version': 'Browser version',
  'visit:os': 'OS',
  'visit:os_version': 'OS version',
  'visit:device': 'Device',
  'visit:screen': 'Screen size',
  'visit:language': 'Language',
  'event:goal': 'Goal',
}

function name(dimension: string): string {
  if (dimension.startsWith(PROPS_PREFIX)) return `Property ${dimension.slice(PROPS_PREFIX.length)}`
  return NAMES[dimension] ?? dimension
}

const OPS: Record<DashFilter['op'], string> = { is: 'is', is_not: 'is not', contains: 'contains' }

function shown(filter: DashFilter): string {
  if (filter.dimension === 'visit:country') return countryName(filter.value)
  if (filter.dimension === 'visit:language') return languageName(filter.value)
  return filter.value || '(none)'
}

export function FilterBar() {
  const { state, navigate } = useDash()
  if (state.filters.length === 0) return null
  return (
    <div class="jd-filters" data-testid="filters" aria-label="Filters">
      {state.filters.map((f) => (
        <span class="jd-chip" key={f.dimension} data-testid="filter-chip" data-dimension={f.dimension}>
          <span>
            {name(f.dimension)} {OPS[f.op]} <strong>{shown(f)}</strong>
          </span>
          <button
            type="button"
            aria-label={`Remove filter ${name(f.dimension)}`}
            data-testid="filter-remove"
            onClick={() => navigate(withoutFilter(state, f.dimension))}
          >
            ✕
          </button>
        </span>
      ))}
      {state.filters.length > 1 && (
        <button type="button" class="jd-link" onClick={() => navigate({ ...state, filters: [] })}>
          Clear all
        </button>
      )}
    </div>
  )
}
