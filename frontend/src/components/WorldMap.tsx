// The Locations map: world-atlas country shapes projected with d3-geo, shaded by visitors.
// The shapes are bundled (this chunk loads on demand), so nothing is fetched at run time.
import { geoEqualEarth, geoPath } from 'd3-geo'
import type { Feature, FeatureCollection, Geometry } from 'geojson'
import { useMemo, useState } from 'preact/hooks'
import { feature } from 'topojson-client'
import type { GeometryCollection, Topology } from 'topojson-specification'
import countries110m from 'world-atlas/countries-110m.json'
import type { ResultRow } from '../api'
import { compactNumber, countryName } from '../format'
import { ALPHA2_BY_NUMERIC } from '../iso-numeric'
import { t } from '../i18n'

export interface MapProps {
  rows: ResultRow[]
  loading: boolean
  onSelect: (country: string) => void
}

// A touch screen has no hover: the caption tells to tap instead.
const TOUCH = typeof matchMedia === 'function' && matchMedia('(hover: none)').matches

const WIDTH = 800
const HEIGHT = 420

interface Shape {
  /** ISO alpha-2, or '' for the shapes without one (Somaliland, Kosovo, Northern Cyprus). */
  code: string
  name: string
  path: string
}

function shapes(): Shape[] {
  const topology = countries110m as unknown as Topology<{ countries: GeometryCollection }>
  const collection = feature(topology, topology.objects.countries) as FeatureCollection<Geometry>
  const land = collection.features.filter((f: Feature) => f.id !== '010') // no Antarctica
  const projection = geoEqualEarth().fitExtent(
    [
      [4, 4],
      [WIDTH - 4, HEIGHT - 4],
    ],
    { type: 'FeatureCollection', features: land },
  )
  const path = geoPath(projection)
  return land.map((f) => {
    const code = f.id === undefined ? '' : (ALPHA2_BY_NUMERIC[String(f.id)] ?? '')
    const name = (f.properties as { name?: string } | null)?.name ?? ''
    return { code, name, path: path(f) ?? '' }
  })
}

export function WorldMap({ rows, loading, onSelect }: MapProps) {
  const all = useMemo(shapes, [])
  const [hover, setHover] = useState<string | null>(null)
  const visitors = new Map(rows.map((r) => [r.dimensions[0], r.metrics[0] ?? 0]))
  const max = Math.max(1, ...visitors.values())
  const hovered = hover ? `${countryName(hover)}: ${compactNumber(visitors.get(hover) ?? 0)} visitors` : ''
  return (
    <div class={`jd-map ${loading ? 'jd-loading' : ''}`} data-testid="world-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={t('Visitors by country')}>
        {all.map((shape, i) => {
          // Visitors with no known country have the code '' too: never paint them on a shape.
          const count = shape.code ? (visitors.get(shape.code) ?? 0) : 0
          const share = count / max
          return (
            <path
              key={`${shape.code}-${i}`}
              d={shape.path}
              class={count ? 'jd-country jd-has' : 'jd-country'}
              style={count ? { fillOpacity: 0.2 + 0.8 * Math.sqrt(share) } : undefined}
              data-country={shape.code}
              onMouseEnter={() => setHover(shape.code || null)}
              onMouseLeave={() => setHover(null)}
              onClick={() => count && onSelect(shape.code)}
            >
              <title>{shape.code ? `${countryName(shape.code)}: ${count} visitors` : shape.name}</title>
            </path>
          )
        })}
      </svg>
      <p class="jd-map-caption jd-muted" aria-live="polite">
        {hovered || (TOUCH ? t('Tap a country to filter by it') : t('Hover a country; click one to filter'))}
      </p>
    </div>
  )
}
