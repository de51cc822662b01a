/**
 * `trackrec probe`: the muxer's MPEG-TS checker, or the MP4 box walker of `mp4-probe.ts`, in human
 * (or JSON Lines) form.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { formatReport, type InspectOptions } from '@trackrec/muxer/inspect';
import { numberOption, onePositional, UsageError } from '../args.js';
import { EXIT, writeJsonLine } from '../io.js';
import { parseMediaPlaylist } from '../m3u8.js';
import { formatMp4Probe, probeMp4File } from '../mp4-probe.js';
import { probePlaylist, probeTsFile, type SegmentProbe } from '../probe.js';
import type { Command } from './command.js';

const NAME = 'probe';

/** `trackrec probe <file.ts | playlist.m3u8>`. */
export const probeCommand: Command = {
  name: NAME,
  summary: 'check an MPEG-TS or MP4 file, or every segment of an HLS playlist',
  help: `Usage: trackrec probe <file.ts | file.mp4 | playlist.m3u8 | hls-dir> [options]

Checks a recording with the muxer's independent MPEG-TS checker: streams, duration, PCR and
PAT/PMT intervals, DTS−PCR, continuity, PES and codec framing. A playlist's segments are each
checked; the summary gives the segment count, durations and whether EXT-X-ENDLIST is present
(without it the recording is still growing, or crashed: see trackrec repair). A directory
stands for the HLS recording in it (its EVENT playlist).

An .mp4 (fragmented or progressive) or .m4s file is walked box by box: ftyp brand, tracks
(codec, size, timescale, samples), fragments, duration, and whether it ends on a whole
fragment. Violations: a torn last box or fragment, a missing moov, tfdt not continuing the
previous fragment. fMP4 HLS playlists (EXT-X-MAP) are checked the same way, each segment after
its init segment, decode times continuing from segment to segment.

Options:
  --json                 JSON Lines: for a playlist one line per segment, then a summary line
  --max-pcr-gap <ms>     largest allowed PCR interval (default 100; trackrec writes ≤ 40)
  --max-table-gap <ms>   largest allowed PAT/PMT interval (default 500; trackrec writes ≤ 100)
  --max-violations <n>   violations kept in full per file (default 100; counts stay complete)
  -h, --help             this help

Exit codes: 0 no violation, 1 violations or unreadable segments, 2 usage error.`,
  options: {
    json: { type: 'boolean' },
    'max-pcr-gap': { type: 'string' },
    'max-table-gap': { type: 'string' },
    'max-violations': { type: 'string' },
  },
  async run({ values, positionals, io }) {
    let target = resolve(io.cwd ?? process.cwd(), onePositional(NAME, positionals, 'file or playlist'));
    const options: InspectOptions = {};
    const pcr = numberOption(NAME, values, 'max-pcr-gap', { min: 1 });
    const table = numberOption(NAME, values, 'max-table-gap', { min: 1 });
    const maxViolations = numberOption(NAME, values, 'max-violations', { min: 0, integer: true });
    if (pcr !== undefined) options.maxPcrGapMs = pcr;
    if (table !== undefined) options.maxTableGapMs = table;
    if (maxViolations !== undefined) options.maxViolations = maxViolations;
    const json = values.json === true;

    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(target);
    } catch (err) {
      throw new UsageError(
        `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        NAME,
      );
    }
    if (info.isDirectory()) {
      target = recordingPlaylist(target);
    } else if (!info.isFile()) throw new UsageError(`${target} is not a file`, NAME);

    if (target.toLowerCase().endsWith('.m3u8')) {
      // Each segment is printed as soon as it is checked: a long recording shows progress.
      if (!json) io.stdout.write(`${target}: HLS media playlist\n`);
      const result = await probePlaylist(target, options, (s) => {
        if (json) writeJsonLine(io.stdout, { type: 'segment', ...s });
        else io.stdout.write(`${segmentLines(s).join('\n')}\n`);
      });
      if (json) {
        const { segments: _segments, ...summary } = result;
        writeJsonLine(io.stdout, { type: 'playlist', ...summary });
      } else {
        const out = [
          `segments: ${result.segmentCount} (${result.badSegments} with problems), ` +
            `listed ${result.listedDuration.toFixed(3)} s, media ${result.measuredDuration.toFixed(3)} s, ` +
            `target ${result.targetDuration ?? 'n/a'} s, ` +
            (result.ended ? 'EXT-X-ENDLIST present (finished)' : 'no EXT-X-ENDLIST (growing or crashed)'),
        ];
        for (const p of result.problems) out.push(`problem: ${p}`);
        out.push(result.ok ? 'result: ok' : 'result: VIOLATIONS');
        io.stdout.write(`${out.join('\n')}\n`);
      }
      return result.ok ? EXIT.ok : EXIT.failure;
    }

    const lower = target.toLowerCase();
    if (lower.endsWith('.mp4') || lower.endsWith('.m4s') || lower.endsWith('.m4a')) {
      const report = probeMp4File(target, { segment: lower.endsWith('.m4s') });
      if (json) writeJsonLine(io.stdout, { type: 'mp4', ...report });
      else io.stdout.write(`${target}\n${formatMp4Probe(report)}\n`);
      return report.ok ? EXIT.ok : EXIT.failure;
    }

    const report = await probeTsFile(target, options);
    if (json) writeJsonLine(io.stdout, { type: 'file', path: target, ...report });
    else io.stdout.write(`${target}\n${formatReport(report)}\n`);
    return report.ok ? EXIT.ok : EXIT.failure;
  },
};

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

/** The playlist of the HLS recording in `dir`: the only one, or the only one with EXT-X-PLAYLIST-TYPE. */
function recordingPlaylist(dir: string): string {
  const names = readdirSync(dir).filter((n) => !n.startsWith('.') && n.toLowerCase().endsWith('.m3u8'));
  if (names.length === 1) return join(dir, names[0]!);
  const typed = names.filter(
    (n) => parseMediaPlaylist(readFileSync(join(dir, n), 'utf8')).playlistType !== null,
  );
  if (typed.length === 1) return join(dir, typed[0]!);
  throw new UsageError(
    names.length === 0
      ? `${dir} holds no playlist`
      : `${dir} holds ${names.length} playlists (${names.join(', ')}): name one`,
    NAME,
  );
}

/** The human lines of one segment: a summary, and the full report when it has violations. */
function segmentLines(s: SegmentProbe): string[] {
  const extinf = s.extinf === null ? 'no EXTINF' : `EXTINF ${s.extinf.toFixed(3)} s`;
  if (s.mp4 !== null) {
    const m = s.mp4;
    const lines = [
      `  ${s.uri}: ${extinf}, media ${m.durationS.toFixed(3)} s, ${m.bytes} bytes, ${m.fragments} fragments, ` +
        (m.ok ? 'ok' : `${m.violations.length} violations`),
    ];
    for (const v of m.violations) lines.push(`    violation: ${v}`);
    return lines;
  }
  if (s.report === null) return [`  ${s.uri}: ${extinf}, ERROR ${s.error}`];
  const r = s.report;
  const lines = [
    `  ${s.uri}: ${extinf}, media ${(r.durationMs / 1000).toFixed(3)} s, ${r.bytes} bytes, ` +
      (r.ok ? 'ok' : `${r.violationTotal} violations`),
  ];
  if (!r.ok) lines.push(indent(formatReport(r), '    '));
  return lines;
}
