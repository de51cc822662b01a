/**
 * The end of a `demo` or `record` run: what each recording wrote, and the `probe` verdict on it.
 */

import type { RecordingInfo, RecordingMetrics } from '@trackrec/core';
import { formatReport } from '@trackrec/muxer/inspect';
import { formatMp4Probe, probeMp4File } from './mp4-probe.js';
import { probePlaylist, probeTsFile } from './probe.js';
import { formatBytes } from './status-line.js';

/** The probe verdict on one output of a recording. */
export interface OutputCheck {
  /** `file` (the .ts or .mp4, one check per .mp4 part) or `playlist` (HLS). */
  kind: 'file' | 'playlist';
  /** Absolute path checked. */
  path: string;
  /** No violation (and, for a playlist, EXT-X-ENDLIST present). */
  ok: boolean;
  /** One line for people. */
  summary: string;
  /** The full report's lines when not ok. */
  details: string;
}

/** Runs the muxer's checker (as `trackrec probe` does) on every output of a finished recording. */
export async function checkOutputs(info: RecordingInfo): Promise<OutputCheck[]> {
  const checks: OutputCheck[] = [];
  if (info.file !== null && info.file.size > 0 && info.file.location.toLowerCase().endsWith('.mp4')) {
    for (const path of [info.file.location, ...(info.file.parts ?? [])]) {
      const r = probeMp4File(path);
      const kind = r.fragmented ? 'fragmented' : 'progressive';
      checks.push({
        kind: 'file',
        path,
        ok: r.ok,
        summary: r.ok
          ? `ok (${kind} MP4, ${r.tracks.map((t) => t.codec).join(' + ')}, ${r.durationS.toFixed(2)} s)`
          : `${r.violations.length} violations`,
        details: r.ok ? '' : formatMp4Probe(r),
      });
    }
  } else if (info.file !== null && info.file.size > 0) {
    const r = await probeTsFile(info.file.location);
    checks.push({
      kind: 'file',
      path: info.file.location,
      ok: r.ok,
      summary: r.ok
        ? `ok (${r.streams.map((s) => s.codec).join(' + ')}, ${(r.durationMs / 1000).toFixed(2)} s)`
        : `${r.violationTotal} violations`,
      details: r.ok ? '' : formatReport(r),
    });
  }
  if (info.segments !== null && info.segments.segmentCount > 0) {
    const p = await probePlaylist(info.segments.playlistLocation);
    const ok = p.ok && p.ended;
    checks.push({
      kind: 'playlist',
      path: info.segments.playlistLocation,
      ok,
      summary: `${ok ? 'ok' : 'VIOLATIONS'} (${p.segmentCount} segments, ${p.measuredDuration.toFixed(2)} s, ${
        p.ended ? 'EXT-X-ENDLIST' : 'no EXT-X-ENDLIST'
      })`,
      details: [
        ...p.problems,
        ...p.segments
          .filter((s) => !s.ok)
          .map((s) => `${s.uri}: ${s.error ?? s.mp4?.violations.join('; ') ?? 'violations'}`),
      ].join('\n'),
    });
  }
  return checks;
}

/** Human lines describing a finished recording: outputs with sizes, duration, frames and drops. */
export function describeRecording(info: RecordingInfo, m: RecordingMetrics, label?: string): string[] {
  const lines: string[] = [];
  const head = label === undefined ? '' : `${label}: `;
  lines.push(
    `${head}${info.status}${info.error === '' ? '' : ` (${info.error})`}, ${(m.durationMs / 1000).toFixed(2)} s of media`,
  );
  if (info.file !== null) lines.push(`  file      ${info.file.location}  ${formatBytes(info.file.size)}`);
  if (info.segments !== null) {
    lines.push(
      `  playlist  ${info.segments.playlistLocation}  ${info.segments.segmentCount} segments, ${formatBytes(info.segments.size)}`,
    );
  }
  if (m.video !== null) {
    lines.push(
      `  video     ${m.video.framesIn} frames in, ${m.video.framesEncoded} encoded, ${m.video.framesDropped} dropped, ${m.video.fillerFrames} filler`,
    );
  }
  if (m.audio !== null) {
    lines.push(
      `  audio     ${m.audio.framesIn} frames in, ${m.audio.silenceMs.toFixed(0)} ms silence inserted, ${m.audio.droppedMs.toFixed(0)} ms dropped`,
    );
  }
  return lines;
}
