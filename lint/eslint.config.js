// ESLint (with typescript-eslint) for the tracker and the dashboard. `make lint` runs it from
// the repository root: lint/node_modules/.bin/eslint -c lint/eslint.config.js. The linter
// lives in its own package because typescript-eslint parses with TypeScript's JavaScript
// API, which TypeScript 7 (the compiler the tracker and the dashboard use) no longer has;
// this package pins TypeScript 6 for the parser alone.
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  {
    ignores: ['**/node_modules/', 'frontend/src/generated/', 'src/jetrack/static/build/'],
  },
  {
    name: 'jetrack/browser',
    files: ['tracker/src/**/*.ts', 'frontend/src/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.browser },
  },
  {
    name: 'jetrack/build-scripts',
    files: ['tracker/*.mjs', 'frontend/scripts/*.mjs', 'frontend/vite.config.ts', 'lint/*.js'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
)
