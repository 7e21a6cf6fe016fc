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

export interface MapProps {
  rows: ResultRow[]
  loading: boolean
  onSelect: (country: string) => void
}

const WIDTH = 800
const HEIGHT = 420

interface Shape {
  code: string
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
  return land.map((f) => ({ code: ALPHA2_BY_NUMERIC[String(f.id)] ?? '', path: path(f) ?? '' }))
}

export function WorldMap({ rows, loading, onSelect }: MapProps) {
  const all = useMemo(shapes, [])
  const [hover, setHover] = useState<string | null>(null)
  const visitors = new Map(rows.map((r) => [r.dimensions[0], r.metrics[0] ?? 0]))
  const max = Math.max(1, ...visitors.values())
  const hovered = hover ? `${countryName(hover)}: ${compactNumber(visitors.get(hover) ?? 0)} visitors` : ''
  return (
    <div class={`jd-map ${loading ? 'jd-loading' : ''}`} data-testid="world-map">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Visitors by country">
        {all.map((shape, i) => {
          const count = visitors.get(shape.code) ?? 0
          const share = count / max
          return (
            <path
              key={`${shape.code}-${i}`}
              d={shape.path}
              class={count ? 'jd-country jd-has' : 'jd-country'}
              style={count ? { fillOpacity: 0.2 + 0.8 * Math.sqrt(share) } : undefined}
              data-country={shape.code}
              onMouseEnter={() => setHover(shape.code)}
              onMouseLeave={() => setHover(null)}
              onClick={() => count && onSelect(shape.code)}
            >
              <title>{`${countryName(shape.code)}: ${count} visitors`}</title>
            </path>
          )
        })}
      </svg>
      <p class="jd-map-caption jd-muted" aria-live="polite">
        {hovered || 'Hover a country; click one to filter'}
      </p>
    </div>
  )
}
