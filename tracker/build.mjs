// Builds every tracker variant into src/jetrack/static/build/tracker/, prints raw and
// gzip sizes, and exits non-zero when a variant is over its size budget.
//
// A variant is the base script plus any set of extensions; its file name lists the
// extensions in EXTENSIONS order: script.js, script.hash.js, script.hash.outbound-links.js ...
// With 8 extensions that is 256 files, built in a few seconds.
import { build } from 'esbuild'
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const here = dirname(fileURLToPath(import.meta.url))
const root = dirname(here)
// `--out DIR` builds elsewhere (the tests build into a temporary directory).
const outFlag = process.argv.indexOf('--out')
const outDir =
  outFlag > 0 ? process.argv[outFlag + 1] : join(root, 'src/jetrack/static/build/tracker')

// File-name part, build flag, and the gzip bytes the extension may add to the base script.
// The order here is the canonical order of the parts in a variant's name.
const EXTENSIONS = [
  ['hash', 'HASH', 40],
  ['exclusions', 'EXCLUSIONS', 150],
  ['outbound-links', 'OUTBOUND_LINKS', 150],
  ['file-downloads', 'FILE_DOWNLOADS', 260],
  ['form-submissions', 'FORM_SUBMISSIONS', 60],
  ['tagged-events', 'TAGGED_EVENTS', 290],
  ['404', 'NOT_FOUND', 100],
  ['cookie', 'COOKIE', 200],
]

// Gzip (level 9) byte budget of script.js, the script most sites load. A variant's budget
// is this plus the allowance of each extension it carries.
const BASE_BUDGET = 1000

const gzipSize = (code) => gzipSync(code, { level: 9 }).length

function variants() {
  const all = []
  for (let mask = 0; mask < 1 << EXTENSIONS.length; mask++) {
    const chosen = EXTENSIONS.filter((_, i) => mask & (1 << i))
    const name = ['script', ...chosen.map(([part]) => part), 'js'].join('.')
    const define = Object.fromEntries(
      EXTENSIONS.map(([part, flag]) => [flag, String(chosen.some(([p]) => p === part))]),
    )
    const budget = chosen.reduce((sum, [, , allowance]) => sum + allowance, BASE_BUDGET)
    all.push({ name, define, budget })
  }
  return all
}

async function buildVariant({ name, define, budget }) {
  const result = await build({
    entryPoints: [join(here, 'src/tracker.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2017',
    minify: true,
    legalComments: 'none',
    define,
    write: false,
    // tsconfig's strict mode would add a "use strict" prologue the script does not need.
    tsconfigRaw: { compilerOptions: { alwaysStrict: false } },
  })
  const code = result.outputFiles[0].text.trim()
  await writeReplacing(name, code)
  return { name, raw: Buffer.byteLength(code), gzip: gzipSize(code), budget }
}

// A running server may be serving outDir (`jetrack serve`, or tests in parallel): each file
// is replaced in one rename, so a reader gets the old script or the new one, never a part.
async function writeReplacing(name, text) {
  const partial = join(outDir, `.${name}.${process.pid}.partial`)
  await writeFile(partial, text)
  await rename(partial, join(outDir, name))
}

async function main() {
  await mkdir(outDir, { recursive: true })
  const sizes = await Promise.all(variants().map(buildVariant))
  const built = new Set([...sizes.map((s) => s.name), 'manifest.json'])
  for (const stale of await readdir(outDir)) {
    if (/\.(js|json)$/.test(stale) && !built.has(stale)) await rm(join(outDir, stale))
  }
  const width = Math.max(...sizes.map((s) => s.name.length))
  console.log(`${'variant'.padEnd(width)}    raw B   gzip B  budget`)
  let over = 0
  for (const { name, raw, gzip, budget } of sizes) {
    const flag = gzip > budget ? '  OVER BUDGET' : ''
    if (flag) over++
    console.log(
      `${name.padEnd(width)} ${String(raw).padStart(8)} ${String(gzip).padStart(8)} ${String(budget).padStart(7)}${flag}`,
    )
  }
  // The size tests read the variant list and the budgets from here.
  const manifest = Object.fromEntries(sizes.map(({ name, ...size }) => [name, size]))
  await writeReplacing('manifest.json', JSON.stringify(manifest, null, 1) + '\n')
  console.log(`${sizes.length} variants written to ${outDir}`)
  if (over) {
    console.error(`${over} variant(s) over the gzip budget`)
    process.exit(1)
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
