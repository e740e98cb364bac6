// Audit reports of stored runs: buildReport returns the data (a versioned, documented shape),
// renderMarkdown and renderHtml render it. The sections are a registry (sections/index.ts).
export { buildReport, invariantResults, shellWord, SAMPLES } from './build'
export { Report, REPORT_FORMAT, REPORT_VERSION, type InvariantResult, type Provenance } from './model'
export { renderHtml, renderMarkdown } from './render'
export { SECTIONS, fallbackOf } from './sections'
export type { AnySection, Collector, SectionContext, SectionDef } from './section'
