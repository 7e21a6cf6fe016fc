import { defineConfig } from 'vite'
import preact from '@preact/preset-vite'

// The dashboard is served by Jetrack: the shell HTML comes from jetrack.web.dashboard, which
// reads .vite/manifest.json to find the hashed entry files. No index.html is involved.
// src/pages/ holds the small modules of server-rendered pages (templates load them through
// jetrack.web.static_files.page_script): the pages' CSP allows no inline script.
export default defineConfig({
  plugins: [preact()],
  base: '/static/build/dashboard/',
  build: {
    outDir: '../src/jetrack/static/build/dashboard',
    emptyOutDir: true,
    manifest: true,
    target: 'es2020',
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { main: 'src/main.tsx', 'snippet-builder': 'src/pages/snippet-builder.ts' },
    },
  },
})
