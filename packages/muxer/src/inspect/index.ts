/**
 * `@trackrec/muxer/inspect`: an independent MPEG-TS checker (ISO/IEC 13818-1, ETSI TR 101 290
 * priority-1 thresholds) and crash-repair helper. It shares no code with the muxer it judges.
 *
 * @example
 * import { inspectTs, formatReport } from '@trackrec/muxer/inspect';
 * const report = inspectTs(bytes, { maxTableGapMs: 101, maxPcrGapMs: 41 });
 * if (!report.ok) console.error(formatReport(report));
 *
 * @packageDocumentation
 */

export { formatReport } from './format.js';
export { inspectTs, TsInspector } from './inspector.js';
export { type CompletePrefixOptions, completePrefixLength } from './prefix.js';
export type {
  InspectOptions,
  PidReport,
  ProgramReport,
  StreamCodec,
  StreamReport,
  TsReport,
  Violation,
  ViolationCode,
} from './types.js';
