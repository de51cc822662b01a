/**
 * Human-readable summary of a {@link TsReport} for command-line tools.
 */

import type { TsReport, ViolationCode } from './types.js';

const hexPid = (pid: number): string => (pid < 0 ? '-' : `0x${pid.toString(16).padStart(4, '0')}`);
const ms = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(1)} ms`);
const seconds = (ticks: number | null): string =>
  ticks === null ? 'n/a' : `${(ticks / 90000).toFixed(3)} s`;

/**
 * Formats a report as a few lines: streams, duration, clock and table intervals, violations
 * (at most `maxViolationLines` of them listed, default 20).
 */
export function formatReport(report: TsReport, maxViolationLines = 20): string {
  const lines: string[] = [];
  lines.push(
    `MPEG-TS: ${report.packets} packets, ${report.bytes} bytes, duration ${(report.durationMs / 1000).toFixed(3)} s` +
      (report.trailingBytes > 0 ? `, ${report.trailingBytes} trailing bytes` : '') +
      (report.skippedBytes > 0 ? `, ${report.skippedBytes} bytes skipped for sync` : ''),
  );
  for (const program of report.programs) {
    lines.push(
      `program ${program.programNumber}: PMT ${hexPid(program.pmtPid)}, PCR ${program.pcrPid === null ? 'n/a' : hexPid(program.pcrPid)}`,
    );
    for (const s of report.streams.filter((x) => x.programNumber === program.programNumber)) {
      lines.push(
        `  ${hexPid(s.pid)} ${s.codec} (stream_type 0x${s.streamType.toString(16).padStart(2, '0')}): ` +
          `${s.pesCount} PES, ${s.frames} frames, ${s.keyframes} keyframes, ${s.bytes} bytes, ` +
          `PTS ${seconds(s.firstPts)} → ${seconds(s.lastPts)}, duration ${(s.durationMs / 1000).toFixed(3)} s` +
          (s.ccErrors > 0 ? `, ${s.ccErrors} CC errors` : ''),
      );
    }
  }
  for (const s of report.streams.filter((x) => x.streamType < 0)) {
    lines.push(`  ${hexPid(s.pid)} PES without PMT entry: ${s.pesCount} PES`);
  }
  lines.push(
    `PIDs: ${report.pids
      .map(
        (p) =>
          `${hexPid(p.pid)} ${p.kind} ×${p.packets}${p.ccErrors > 0 ? ` (${p.ccErrors} CC errors)` : ''}`,
      )
      .join(', ')}`,
  );
  const dp = report.dtsMinusPcrMs;
  lines.push(
    `PCR: ${report.pcrCount} on ${report.pcrPid === null ? 'n/a' : hexPid(report.pcrPid)}, max gap ${ms(report.maxPcrGapMs)}; ` +
      `PAT max gap ${ms(report.maxPatGapMs)}; PMT max gap ${ms(report.maxPmtGapMs)}; ` +
      `DTS−PCR ${dp === null ? 'n/a' : `${dp.min.toFixed(1)}…${dp.max.toFixed(1)} ms`}`,
  );
  if (report.ok) {
    lines.push('violations: none');
    return lines.join('\n');
  }
  const counts = Object.entries(report.violationCounts) as Array<[ViolationCode, number]>;
  lines.push(
    `violations: ${report.violationTotal} (${counts.map(([code, n]) => `${code} ×${n}`).join(', ')})`,
  );
  const shown = report.violations.slice(0, maxViolationLines);
  for (const v of shown) {
    lines.push(
      `  ${v.code} PID ${hexPid(v.pid)} packet ${v.packetIndex} (byte ${v.byteOffset}): ${v.message}`,
    );
  }
  const more = report.violationTotal - shown.length;
  if (more > 0) lines.push(`  … and ${more} more`);
  return lines.join('\n');
}
