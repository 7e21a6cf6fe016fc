// Build-time feature flags. tracker/build.mjs replaces each with `true` or `false`
// through esbuild's `define`, and minification drops the code behind a `false`.
declare const HASH: boolean
declare const EXCLUSIONS: boolean
declare const OUTBOUND_LINKS: boolean
declare const FILE_DOWNLOADS: boolean
declare const FORM_SUBMISSIONS: boolean
declare const TAGGED_EVENTS: boolean
declare const NOT_FOUND: boolean
declare const COOKIE: boolean
