// Prints the size of every built file, writes a .gz beside each JS/CSS file (served as is by
// jetrack.web.dashboard), and fails the build when the JavaScript passes its budget.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const BUDGET_JS_GZIP = 250 * 1024
const here = dirname(fileURLToPath(import.meta.url))
const outDir = resolve(here, '../../src/jetrack/static/build/dashboard')

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

let jsTotal = 0
const lines = []
for (const path of walk(outDir).sort()) {
  if (!/\.(js|css|json|svg)$/.test(path) || path.includes('.vite')) continue
  const raw = readFileSync(path)
  const gz = gzipSync(raw, { level: 9 })
  if (/\.(js|css)$/.test(path)) writeFileSync(path + '.gz', gz)
  if (path.endsWith('.js')) jsTotal += gz.length
  lines.push(`  ${relative(outDir, path).padEnd(48)} ${(raw.length / 1024).toFixed(1).padStart(8)} KB  ${(gz.length / 1024).toFixed(1).padStart(7)} KB gz`)
}
console.log('dashboard bundle:')
console.log(lines.join('\n'))
console.log(`  JavaScript total: ${(jsTotal / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_JS_GZIP / 1024} KB)`)
if (jsTotal > BUDGET_JS_GZIP) {
  console.error('size-report: the dashboard JavaScript is over its budget')
  process.exit(1)
}
