// What the server embeds into the shell page (<script id="jt-bootstrap">): see
// jetrack.web.dashboard.bootstrap_data for the producer.
export interface SiteRef {
  domain: string
  name: string
}

/** A saved funnel: its id, name and the goals of its steps in order. */
export interface FunnelRef {
  id: number
  name: string
  steps: string[]
}

export interface Bootstrap {
  domain: string
  name: string
  timezone: string
  sites: SiteRef[]
  csrf_token: string
  theme: 'light' | 'dark' | 'system'
  read_only: boolean
  query_url: string
  settings_url: string | null
  dashboard_path: string
  snippet: string
  secure_cookies: boolean
  /** First day the site's retention keeps (ISO date), or null when data is kept forever. */
  data_from: string | null
  /** POST endpoint answering a ZIP of one CSV per panel, or null (read-only views). */
  export_url: string | null
  /** POST `{date_range}` answering `{keys}`: the custom property keys seen in that range. */
  prop_keys_url: string
  /** GET the segments this reader sees; POST/PATCH/DELETE (signed in) change them. */
  segments_url: string
  /** GET the site's notes on the graph; POST/DELETE (editors) change them. */
  annotations_url: string
  /** The site's funnels (the Funnels panel's menu). */
  funnels: FunnelRef[]
  /** POST `{funnel_id, date_range, filters}` answering the funnel's steps (docs/funnels.md). */
  funnel_url: string
  /** The site has finished imports (docs/imports.md): the dashboard offers to add them. */
  imports: boolean
}

function read(): Bootstrap {
  const node = document.getElementById('jt-bootstrap')
  if (!node?.textContent) throw new Error('the page has no bootstrap data')
  return JSON.parse(node.textContent) as Bootstrap
}

export const boot: Bootstrap = read()
