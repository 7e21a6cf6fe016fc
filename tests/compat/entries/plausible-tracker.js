// plausible-tracker (0.3.x) as an application would import it; the test page calls
// PlausibleLegacy.Plausible({...}) and the functions it returns.
export { default as Plausible } from 'plausible-tracker'
