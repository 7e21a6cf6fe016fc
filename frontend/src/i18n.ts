// The dashboard's words in the page's language: the server embeds the translations this
// code uses (<script id="jt-messages">, jetrack.i18n) and sets <html lang>. English, the
// source language, needs no catalog: a message missing from it shows as written.
type Params = Record<string, string | number>

function read(): Record<string, string[]> {
  const node = document.getElementById('jt-messages')
  if (!node?.textContent) return {}
  return JSON.parse(node.textContent) as Record<string, string[]>
}

const catalog = read()

/** The page's language, for Intl (numbers, dates, names of countries and languages). */
export const locale: string = document.documentElement.lang || 'en'

const plurals = safePluralRules()

function safePluralRules(): Intl.PluralRules {
  try {
    return new Intl.PluralRules(locale)
  } catch {
    return new Intl.PluralRules('en')
  }
}

function fill(text: string, params?: Params): string {
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  )
}

/** `msgid` translated, its `{name}` placeholders filled from `params`. */
export function t(msgid: string, params?: Params): string {
  return fill(catalog[msgid]?.[0] ?? msgid, params)
}

/** The singular or plural form for `n` (CLDR "one" or other); `{n}` is filled with `n`. */
export function tn(singular: string, plural: string, n: number, params?: Params): string {
  // CLDR's "one", then "many" where the catalog has a third form (fr, es, pt: millions),
  // then "other", the last form (as jetrack.i18n.catalogs.Translations.plural_form).
  const category = plurals.select(n)
  const forms = catalog[singular]
  let text = category === 'one' ? singular : plural
  if (forms && forms.length > 1) {
    text = category === 'one' ? forms[0] : category === 'many' && forms.length > 2 ? forms[1] : forms[forms.length - 1]
  }
  return fill(text, { n: new Intl.NumberFormat(locale).format(n), ...params })
}

/** `msgid` translated, its `{name}` placeholders replaced by elements (a link, a code): the
 * parts in order, for JSX. */
export function tx<T>(msgid: string, parts: Record<string, T | string>): (T | string)[] {
  const text = catalog[msgid]?.[0] ?? msgid
  return text.split(/\{(\w+)\}/).map((piece, index) => (index % 2 ? (parts[piece] ?? `{${piece}}`) : piece))
}
