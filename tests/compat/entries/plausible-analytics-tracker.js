// @plausible-analytics/tracker as an application would import it; the test page calls
// PlausibleTracker.init({...}) and PlausibleTracker.track(...) with its own options.
export { DEFAULT_FILE_TYPES, init, track } from '@plausible-analytics/tracker'
