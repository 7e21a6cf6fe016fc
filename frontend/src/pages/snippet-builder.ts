// The snippet builder of a site's settings page (templates/site_settings.html): each ticked
// box adds its tracker extension to the script's name and its attribute to the tag, and the
// snippets are rewritten as boxes change. The page renders every text; this module only
// fills in the tag and shows or hides the parts a box asks for.
//
// The builder's data: `data-template` is the tag with {attrs} and {src} to fill,
// `data-scripts` the URL the script names are appended to, `data-order` the extensions in
// the order the built files name them (jetrack.web.tracker_script.EXTENSIONS).
// A box's data: `data-extension` (a part of the script's name), `data-attribute` (added to
// the tag), `data-shows` (the id of an element shown while ticked), `data-saved` and
// `data-unsaved` (the id of an element shown while the box differs from its saved state).

/** The name of the variant with these extensions, in the order the server builds them. */
function scriptName(order: readonly string[], chosen: ReadonlySet<string>): string {
  return ['script', ...order.filter((part) => chosen.has(part)), 'js'].join('.')
}

/** The template's {attrs} and {src} filled in. */
function fillTag(template: string, attrs: string, src: string): string {
  return template.replace('{attrs}', () => attrs).replace('{src}', () => src)
}

function byId(id: string | undefined): HTMLElement | null {
  return id ? document.getElementById(id) : null
}

function start(builder: HTMLElement): void {
  const { template = '', scripts = '', order = '' } = builder.dataset
  const boxes = Array.from(builder.querySelectorAll<HTMLInputElement>('input[type=checkbox]'))
  const update = (): void => {
    const ticked = boxes.filter((box) => box.checked)
    const chosen = new Set(ticked.map((box) => box.dataset.extension || ''))
    const src = scripts + scriptName(order.split(' '), chosen)
    const attrs = ticked.map((box) => box.dataset.attribute || '').join('')
    const snippet = byId('snippet')
    const notFound = byId('snippet-404')
    if (snippet) snippet.textContent = fillTag(template, attrs, src)
    if (notFound) notFound.textContent = fillTag(template, attrs + ' data-404', src)
    for (const box of boxes) {
      const shown = byId(box.dataset.shows)
      if (shown) shown.hidden = !box.checked
      const unsaved = byId(box.dataset.unsaved)
      if (unsaved) unsaved.hidden = box.checked === (box.dataset.saved === '1')
    }
  }
  // Boxes that only change the snippet are hidden until this runs: without it they would
  // do nothing.
  builder.querySelectorAll<HTMLElement>('[data-needs-script]').forEach((part) => {
    part.hidden = false
  })
  builder.addEventListener('change', update)
  update()
}

const builder = document.getElementById('snippet-builder')
if (builder) start(builder)
