// Bundles Plausible's own npm trackers for the compatibility tests (tests/compat).
//   node tests/compat/build.mjs [--out DIR]     (default: tests/compat/dist)
// Each entry in ./entries becomes DIR/<entry>.js, an IIFE that puts the package's exports
// on one global, so a test page can initialise the tracker with options of its own.
import { mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const here = dirname(fileURLToPath(import.meta.url))
const outIndex = process.argv.indexOf('--out')
const out = outIndex > 0 ? resolve(process.argv[outIndex + 1]) : join(here, 'dist')

const ENTRIES = {
  'plausible-analytics-tracker': 'PlausibleTracker',
  'plausible-tracker': 'PlausibleLegacy',
}

mkdirSync(out, { recursive: true })
for (const [name, globalName] of Object.entries(ENTRIES)) {
  const result = await build({
    entryPoints: [join(here, 'entries', `${name}.js`)],
    outfile: join(out, `${name}.js`),
    absWorkingDir: here,
    bundle: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: ['chrome100'],
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  })
  const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0)
  console.log(`${name}.js ${bytes} bytes (window.${globalName})`)
}
