import { useDash } from '../context'
import { channelName, countryName, languageName } from '../format'
import { useSegments } from '../segments'
import { type DashFilter, PROPS_PREFIX, withoutFilter } from '../state'
import { SegmentMenu } from './SegmentMenu'
import { t, tx } from '../i18n'

const NAMES: Record<string, string> = {
  'visit:channel': t('Channel'),
  'visit:source': t('Source'),
  'visit:referrer': t('Referrer'),
  'visit:utm_medium': t('UTM medium'),
  'visit:utm_source': t('UTM source'),
  'visit:utm_campaign': t('UTM campaign'),
  'visit:utm_content': t('UTM content'),
  'visit:utm_term': t('UTM term'),
  'event:page': t('Page'),
  'visit:entry_page': t('Entry page'),
  'visit:exit_page': t('Exit page'),
  'visit:country': t('Country'),
  'visit:region': t('Region'),
  'visit:city': t('City'),
  'visit:city_name': t('City'),
  'visit:browser': t('Browser'),
  'visit:browser_version': t('Browser version'),
  'visit:os': t('OS'),
  'visit:os_version': t('OS version'),
  'visit:device': t('Device'),
  'visit:screen': t('Screen size'),
  'visit:language': t('Language'),
  'event:goal': t('Goal'),
}

function name(dimension: string): string {
  if (dimension.startsWith(PROPS_PREFIX)) return `Property ${dimension.slice(PROPS_PREFIX.length)}`
  return NAMES[dimension] ?? dimension
}

const OPS: Record<DashFilter['op'], string> = { is: t('is'), is_not: t('is not'), contains: t('contains') }

function shown(filter: DashFilter): string {
  if (filter.dimension === 'visit:country') return countryName(filter.value)
  if (filter.dimension === 'visit:language') return languageName(filter.value)
  if (filter.dimension === 'visit:channel') return channelName(filter.value)
  return filter.value || t('(none)')
}

/** A saved filter in words ("Country is Germany"), for the segment menu. */
function filterText(op: string, dimension: string, values: string[]): string {
  const words = values.map((value) => shown({ op: 'is', dimension: dimension as DashFilter['dimension'], value }))
  return `${name(dimension)} ${OPS[op as DashFilter['op']] ?? op.replace('_', ' ')} ${words.join(t(' or '))}`
}

export function FilterBar() {
  const { state, navigate } = useDash()
  const saved = useSegments()?.segments ?? []
  if (state.filters.length === 0 && !state.segment && saved.length === 0) return null
  const applied = saved.find((s) => s.id === state.segment)
  return (
    <div class="jd-filters" data-testid="filters" aria-label={t('Filters')}>
      {state.segment && (
        <span class="jd-chip jd-segment-chip" data-testid="segment-chip" data-segment={state.segment}>
          <span>
            {tx('Segment {name}', { name: <strong translate={false}>{applied?.name ?? `#${state.segment}`}</strong> })}
          </span>
          <button
            type="button"
            aria-label={t('Remove the segment')}
            data-testid="segment-remove"
            onClick={() => navigate({ ...state, segment: undefined })}
          >
            ✕
          </button>
        </span>
      )}
      {state.filters.map((f) => (
        <span class="jd-chip" key={f.dimension} data-testid="filter-chip" data-dimension={f.dimension}>
          <span>
            {name(f.dimension)} {OPS[f.op]} <strong translate={false}>{shown(f)}</strong>
          </span>
          <button
            type="button"
            aria-label={t('Remove filter {name}', { name: name(f.dimension) })}
            data-testid="filter-remove"
            onClick={() => navigate(withoutFilter(state, f.dimension))}
          >
            ✕
          </button>
        </span>
      ))}
      {state.filters.length + (state.segment ? 1 : 0) > 1 && (
        <button
          type="button"
          class="jd-link"
          onClick={() => navigate({ ...state, filters: [], segment: undefined })}
        >
          {t('Clear all')}
        </button>
      )}
      <SegmentMenu describe={filterText} />
    </div>
  )
}
