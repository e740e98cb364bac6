// The report's sections, in the order they are printed. A mechanism's section is one file here
// and one line below; a section whose mechanism the run did not use leaves itself out (its
// collector finishes with null).
import type { AnySection } from '../section'
import { buddySection } from './buddy'
import { hintingSection } from './hinting'
import { isolationSection } from './isolation'
import { recordingSection } from './recording'
import { reportingSection } from './reporting'
import { rmapSection } from './rmap'

export const SECTIONS: readonly AnySection[] = [buddySection, hintingSection, rmapSection, isolationSection, reportingSection, recordingSection]

export { buddySection, fallbackOf, FALLBACK_KINDS, type BuddyData, type FallbackKind } from './buddy'
export { hintingSection, type HintingData } from './hinting'
export { rmapSection, type RmapData } from './rmap'
export { recordingSection } from './recording'
export { isolationSection, type IsolationData } from './isolation'
export { reportingSection, type ReportingData } from './reporting'
