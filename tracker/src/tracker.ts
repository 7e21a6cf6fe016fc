/**
 * The Jetrack tracking script: pageviews, SPA navigation, custom events and engagement,
 * with opt-in extensions compiled in or out through build-time flags (see flags.d.ts).
 *
 * Privacy rules this file keeps: it never writes cookies or web storage (except the one
 * `jt_id` cookie of the opt-in cookie variant), never reads form values and never touches
 * fingerprinting APIs. Every entry point is guarded so nothing it does can throw into the
 * host page.
 */

interface Revenue {
  amount: number | string
  currency: string
}

interface Options {
  props?: Record<string, unknown>
  revenue?: Revenue
  callback?: (result?: { status: number }) => void
  interactive?: boolean
  // Internal: the engagement event's scroll depth and engaged time.
  sd?: number
  e?: number
}

// The wire format of POST /api/event (compatible with Plausible's Events API).
interface Payload {
  n: string
  u: string
  d: string
  r: string | null
  w: number
  h?: 1
  p?: Record<string, unknown>
  $?: Revenue
  i?: boolean
  sd?: number
  e?: number
  c?: string
}

type Track = ((name: string, options?: Options) => void) & { q?: IArguments[] }

type Host = Window & {
  jetrack?: Track
  plausible?: Track
  Cypress?: unknown
}

// Extensions a link must end with to count as a file download (data-file-types overrides).
const DEFAULT_FILE_TYPES =
  'pdf,csv,txt,rtf,doc,docx,xls,xlsx,ppt,pptx,odt,ods,epub,zip,rar,7z,tar,gz,dmg,pkg,exe,msi,deb,apk,iso,mp3,wav,mp4,mov,avi'

const win = window as Host
const doc = document
const loc = location
const nav = navigator as Navigator & { globalPrivacyControl?: boolean }
const now = Date.now

// Wraps a function so that whatever it throws stays inside the tracker.
const guard =
  <A extends unknown[]>(fn: (...args: A) => unknown) =>
  (...args: A): void => {
    try {
      fn(...args)
    } catch {
      // swallowed: the host page must never see the tracker fail
    }
  }

// Capture phase, so a host handler calling stopPropagation() cannot hide a click from us.
const listen = <E extends Event>(target: EventTarget, type: string, fn: (event: E) => unknown) =>
  target.addEventListener(type, guard(fn) as EventListener, true)

// Escapes everything but letters, digits, `_`, `-`, `/` and `*` (an identity escape such
// as `\%` is valid outside unicode mode).
const escapeRegExp = (text: string) => text.replace(/[^\w*/-]/g, '\\$&')

const script = doc.currentScript as HTMLScriptElement
const attr = (name: string) => script.getAttribute('data-' + name)
// A boolean attribute is on when present, unless its value is "0" or "false".
const on = (name: string) => !/^(0|false|null)$/.test(attr(name) + '')

// The route is what tells pages apart, for "one pageview per route" and for patterns.
const route = () => (HASH ? loc.pathname + loc.hash : loc.pathname)

// data-include / data-exclude: comma-separated path globs; `*` matches inside one path
// segment, `**` matches across segments.
const matches = (name: string) => {
  const globs = attr(name)
  return (
    globs &&
    globs
      .split(',')
      .some((glob) =>
        new RegExp(
          '^' +
            escapeRegExp(glob.trim()).replace(/\*\*?/g, (star) => (star[1] ? '.*' : '[^/]*')) +
            '$',
        ).test(route()),
      )
  )
}

const ignored = () => {
  try {
    // The visitor's own opt-out; the script only ever reads this flag.
    if (localStorage.jetrack_ignore == 'true') return 1
  } catch {
    // storage denied (sandboxed frame, privacy mode): no opt-out flag to read
  }
  return (
    // First, so that without EXCLUSIONS the minifier drops it whole.
    (EXCLUSIONS && ((attr('include') && !matches('include')) || matches('exclude'))) ||
    // Pages on this machine count only with data-local; everyone tries the snippet there
    // first, so the console says why nothing arrives (an array is truthy: still ignored).
    (!on('local') &&
      /^(localhost|127\.[\d.]+|\[::1\]|)$/.test(loc.hostname) &&
      [console.warn('localhost ignored: set data-local')]) ||
    nav.webdriver ||
    win.Cypress ||
    (on('respect-dnt') && (nav.doNotTrack == '1' || nav.globalPrivacyControl))
  )
}

// Opt-in cookie mode: one first-party cookie holding a random id, nothing derived from
// the device. Only compiled into the cookie variants, and only used with data-cookie.
const visitorId = () => {
  const found = /(?:^|; *)jt_id=(\w+)/.exec(doc.cookie)
  const id = found
    ? found[1]
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) =>
        (byte + 256).toString(16).slice(1),
      ).join('')
  doc.cookie =
    'jt_id=' +
    id +
    ';path=/;max-age=31536000;samesite=lax' +
    (loc.protocol == 'https:' ? ';secure' : '')
  return id
}

// Returns whether the event was sent. An engagement event passes the URL of its
// pageview, which already passed the ignore rules, so it is not checked again.
const send = (name: string, options: Options, url?: string) => {
  const done = options.callback || (() => {})
  if (!url && ignored()) return done()
  const body: Payload = {
    n: name,
    u: url || loc.href,
    d: attr('domain') || loc.hostname,
    r: doc.referrer || null,
    w: win.innerWidth,
    p: options.props,
    $: options.revenue,
    i: options.interactive,
    sd: options.sd,
    e: options.e,
  }
  if (HASH) body.h = 1
  if (COOKIE && on('cookie')) body.c = visitorId()
  // A string body goes out as text/plain, which needs no CORS preflight; keepalive lets
  // the request finish while the page is being left (link clicks, pagehide).
  fetch(attr('api') || new URL(script.src).origin + '/api/event', {
    method: 'POST',
    body: JSON.stringify(body),
    keepalive: true,
  }).then(
    (response) => done({ status: response.status }),
    () => done(),
  )
  return 1
}

const track: Track = guard((name: string, options?: Options) => send(name, options || {}))

// Engagement: visible time and deepest scroll on the current route, reported when the
// page is hidden or left, and before the next SPA route's pageview.
let lastRoute: string | undefined
let pageUrl: string | 0 | void // the URL whose pageview was sent
let engagedMs = 0 // visible time not yet reported
let visibleSince = 0 // 0 while hidden
let depth = 0
let reportedDepth = 0

const measure = () => {
  depth = Math.max(
    depth,
    Math.min(
      100,
      Math.round(((win.scrollY + win.innerHeight) / doc.documentElement.scrollHeight) * 100),
    ) || 0,
  )
}

const report = () => {
  if (visibleSince) engagedMs += now() - visibleSince
  visibleSince = doc.hidden ? 0 : now()
  measure()
  if (pageUrl && (engagedMs || depth > reportedDepth)) {
    send('engagement', { sd: depth, e: engagedMs }, pageUrl)
    engagedMs = 0
    reportedDepth = depth
  }
}

// One pageview per route: pushState or replaceState to the current route adds nothing.
const page = guard(() => {
  if (route() != lastRoute) {
    report()
    lastRoute = route()
    engagedMs = depth = reportedDepth = 0
    pageUrl = send('pageview', {}) && loc.href
  }
})

const history_ = history as History & Record<string, (...args: unknown[]) => unknown>
for (const method of ['pushState', 'replaceState']) {
  const original = history_[method]
  history_[method] = function (this: History, ...args: unknown[]) {
    const result = original.apply(this, args)
    page()
    return result
  }
}
listen(win, 'popstate', page)
if (HASH) listen(win, 'hashchange', page)
listen(doc, 'visibilitychange', report)
// The page may still count as visible during pagehide; it is not engaged any more.
listen(win, 'pagehide', () => {
  report()
  visibleSince = 0
})
listen(doc, 'scroll', measure)

// Query and fragment are left out of link URLs: they can carry personal data.
const linkProps = (link: HTMLAnchorElement) => ({ url: link.origin + link.pathname })

// An element with the classes `jetrack-event-name=Sign+up` and `jetrack-event-<prop>=<value>`
// sends that event when clicked (a form: when submitted); `+` stands for a space. The
// classes `jetrack-revenue-amount=29.90` and `jetrack-revenue-currency=EUR` add revenue
// (sent only with both, as the server refuses half of it).
const tagged = (element: Element) => {
  let name = ''
  const props: Record<string, string> = {}
  const revenue: Record<string, string> = {}
  element.classList.forEach((token) => {
    const match = /^(?:jetrack|plausible)-(event|revenue)-(.+?)=(.+)$/.exec(token)
    if (match) {
      const value = match[3].replace(/\+/g, ' ')
      if (match[1] + match[2] == 'eventname') name = value
      else (match[1] == 'event' ? props : revenue)[match[2]] = value
    }
  })
  if (name)
    track(name, {
      props,
      revenue: revenue.amount && revenue.currency ? (revenue as unknown as Revenue) : undefined,
    })
  return name
}

const click = (event: MouseEvent) => {
  if (event.type == 'auxclick' && event.button != 1) return
  const target = event.target as Element
  if (TAGGED_EVENTS) {
    for (let el: Element | null = target; el; el = el.parentElement) {
      if (el.tagName != 'FORM' && tagged(el)) return
    }
  }
  const link = target.closest('a[href]') as HTMLAnchorElement | null
  if (!link) return
  if (
    FILE_DOWNLOADS &&
    new RegExp(
      '\\.(' +
        escapeRegExp(attr('file-types') || DEFAULT_FILE_TYPES).replace(/\\?,/g, '|') +
        ')$',
      'i',
    ).test(link.pathname)
  ) {
    track('File Download', { props: linkProps(link) })
  } else if (OUTBOUND_LINKS && link.host && link.host != loc.host) {
    track('Outbound Link: Click', { props: linkProps(link) })
  }
}

if (OUTBOUND_LINKS || FILE_DOWNLOADS || TAGGED_EVENTS) {
  listen(doc, 'click', click)
  listen(doc, 'auxclick', click)
}
// A tagged form sends its own event; with form-submissions any other form sends
// `Form: Submission` (the browser fires submit only once the form passed validation).
if (TAGGED_EVENTS || FORM_SUBMISSIONS) {
  listen(doc, 'submit', (event: Event) => {
    if (!(TAGGED_EVENTS && tagged(event.target as Element)) && FORM_SUBMISSIONS) {
      track('Form: Submission')
    }
  })
}

// Calls made before the script loaded wait in the stub's queue (`jetrack.q`, or
// `plausible.q` on sites moving from Plausible).
const queued = (stub?: Track) => (stub && stub.q) || []
const pending = queued(win.jetrack).concat(queued(win.plausible))
win.jetrack = win.plausible = track

page()
if (NOT_FOUND) {
  guard(() => {
    const navigation = performance.getEntriesByType('navigation')[0] as
      | (PerformanceEntry & { responseStatus?: number })
      | undefined
    if ((navigation && navigation.responseStatus == 404) || on('404')) {
      track('404', { props: { path: loc.pathname } })
    }
  })()
}
for (const args of pending) track(...(args as unknown as [string, Options]))
