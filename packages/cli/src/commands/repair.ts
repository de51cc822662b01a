/**
 * `trackrec repair`: makes a crashed recording whole, reports what changed, then checks the result.
 */

import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { onePositional, UsageError } from '../args.js';
import { EXIT, writeJsonLine } from '../io.js';
import { probeMp4File } from '../mp4-probe.js';
import { type PlaylistProbe, probePlaylist, probeTsFile } from '../probe.js';
import {
  detectHlsLayout,
  LayoutError,
  type LayoutHints,
  Mp4RepairError,
  repairFmp4HlsDir,
  repairHlsDir,
  repairMp4File,
  repairTsFile,
} from '../repair.js';
import type { Command } from './command.js';

const NAME = 'repair';

/** `trackrec repair <file.ts | dir>`. */
export const repairCommand: Command = {
  name: NAME,
  summary: 'make a crashed .ts/.mp4 file or HLS recording directory whole',
  help: `Usage: trackrec repair <file.ts | file.mp4 | dir | playlist.m3u8> [options]

A .ts file is cut to whole 188-byte packets and then to the end of the last complete PES on
every PID. A fragmented .mp4 is cut to its last whole fragment (moof+mdat); a whole progressive
.mp4 is left as it is. An HLS directory (TS or fMP4 segments; a playlist stands for its
directory) gets its unlisted segments repaired and listed (durations measured), leftover temp
files removed, and EXT-X-ENDLIST added to its playlists. Run it once, on a
recording whose writer is gone; a clean recording is left unchanged. The result is then
checked as trackrec probe would.

Options:
  --json                    JSON Lines: one line with what changed and the check of the result
  --prefix <name>           segment prefix (default: from the playlist or the *_NNNNN.ts files)
  --playlist <name>         EVENT playlist name (default: the playlist with EXT-X-PLAYLIST-TYPE)
  --live-playlist <name>    sliding live playlist name (default: the other playlist, if any)
  -h, --help                this help

Exit codes: 0 repaired (or nothing to do) and the result checks clean, 1 repair failed or the
result still has violations, 2 usage error.`,
  options: {
    json: { type: 'boolean' },
    prefix: { type: 'string' },
    playlist: { type: 'string' },
    'live-playlist': { type: 'string' },
  },
  async run({ values, positionals, io }) {
    const target = resolve(io.cwd ?? process.cwd(), onePositional(NAME, positionals, 'file or directory'));
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

    let playlistHint: string | undefined;
    if (info.isFile() && target.toLowerCase().endsWith('.m3u8')) {
      if (values.playlist !== undefined) throw new UsageError('--playlist applies to a directory', NAME);
      playlistHint = basename(target);
    } else if (info.isFile()) {
      if (
        values.prefix !== undefined ||
        values.playlist !== undefined ||
        values['live-playlist'] !== undefined
      ) {
        throw new UsageError('--prefix, --playlist and --live-playlist apply to a directory', NAME);
      }
      const lower = target.toLowerCase();
      if (lower.endsWith('.mp4') || lower.endsWith('.m4a')) {
        let report: ReturnType<typeof repairMp4File>;
        try {
          report = repairMp4File(target);
        } catch (err) {
          if (!(err instanceof Mp4RepairError)) throw err;
          if (json)
            writeJsonLine(io.stdout, { type: 'repair', kind: 'mp4', path: target, error: err.message });
          else io.stdout.write(`${target}: ${err.message}\n`);
          return EXIT.failure;
        }
        const check = probeMp4File(target);
        if (json) {
          writeJsonLine(io.stdout, {
            type: 'repair',
            kind: 'mp4',
            ...report,
            check: { ok: check.ok, fragments: check.fragments, violations: check.violations },
          });
        } else {
          io.stdout.write(
            `${report.path}: ${
              report.bytesTruncated === 0
                ? `already whole (${report.originalBytes} bytes)`
                : `cut ${report.bytesTruncated} bytes to the last whole fragment (${report.originalBytes} → ${report.repairedBytes})`
            }\ncheck: ${check.ok ? `ok, ${check.fragments} fragments` : `${check.violations.length} violations`}\n`,
          );
          for (const v of check.violations) io.stdout.write(`  violation: ${v}\n`);
        }
        return check.ok ? EXIT.ok : EXIT.failure;
      }
      const report = repairTsFile(target);
      const check = await probeTsFile(target);
      if (json) {
        writeJsonLine(io.stdout, {
          type: 'repair',
          kind: 'ts',
          ...report,
          check: {
            ok: check.ok,
            violationTotal: check.violationTotal,
            violationCounts: check.violationCounts,
          },
        });
      } else {
        io.stdout.write(
          `${report.path}: ${
            report.bytesTruncated === 0
              ? `already whole (${report.originalBytes} bytes)`
              : `cut ${report.bytesTruncated} bytes (${report.originalBytes} → ${report.repairedBytes})`
          }\ncheck: ${check.ok ? 'ok' : `${check.violationTotal} violations`}\n`,
        );
      }
      return check.ok ? EXIT.ok : EXIT.failure;
    }
    if (playlistHint === undefined && !info.isDirectory()) {
      throw new UsageError(`${target} is neither a file nor a directory`, NAME);
    }

    const hints: LayoutHints = {};
    if (playlistHint !== undefined) hints.playlistName = playlistHint;
    if (typeof values.prefix === 'string') hints.prefix = values.prefix;
    if (typeof values.playlist === 'string') hints.playlistName = values.playlist;
    if (typeof values['live-playlist'] === 'string') hints.livePlaylistName = values['live-playlist'];
    let layout: ReturnType<typeof detectHlsLayout>;
    try {
      layout = detectHlsLayout(playlistHint === undefined ? target : dirname(target), hints);
    } catch (err) {
      if (err instanceof LayoutError) throw new UsageError(err.message, NAME);
      throw err;
    }
    const report =
      layout.format === 'fmp4'
        ? { ...repairFmp4HlsDir(layout), tsRepairs: [], tempFilesRemoved: [] as string[] }
        : { ...repairHlsDir(layout), bytesTruncated: 0 };
    const check = await probePlaylist(report.playlistPath);
    const changed =
      report.playlistCreated ||
      report.endListAdded ||
      report.segmentsAdded.length > 0 ||
      report.segmentsRemoved.length > 0 ||
      report.tempFilesRemoved.length > 0;
    if (json) {
      writeJsonLine(io.stdout, {
        type: 'repair',
        kind: layout.format === 'fmp4' ? 'fmp4-hls' : 'hls',
        dir: layout.dir,
        prefix: layout.prefix,
        livePlaylistPath:
          layout.livePlaylistName === null ? null : resolve(layout.dir, layout.livePlaylistName),
        changed,
        ...report,
        check: {
          ok: check.ok,
          ended: check.ended,
          segmentCount: check.segmentCount,
          badSegments: check.badSegments,
          problems: check.problems,
          segmentProblems: segmentProblems(check),
        },
      });
    } else {
      const lines = [
        `${layout.dir}: ${layout.format === 'fmp4' ? 'fMP4 ' : ''}HLS recording, prefix "${layout.prefix}", playlist ${layout.playlistName}`,
      ];
      if (layout.livePlaylistName !== null) lines.push(`  live playlist ${layout.livePlaylistName}`);
      if (!changed) lines.push('  nothing to repair');
      if (report.playlistCreated) lines.push(`  created ${basename(report.playlistPath)}`);
      for (const r of report.tsRepairs) {
        if (r.bytesTruncated > 0) {
          lines.push(
            `  cut ${basename(r.path)}: ${r.bytesTruncated} bytes (${r.originalBytes} → ${r.repairedBytes})`,
          );
        }
      }
      if (report.bytesTruncated > 0) lines.push(`  cut ${report.bytesTruncated} bytes of torn fragments`);
      if (report.segmentsAdded.length > 0) lines.push(`  listed ${report.segmentsAdded.join(', ')}`);
      if (report.segmentsRemoved.length > 0)
        lines.push(`  deleted empty ${report.segmentsRemoved.join(', ')}`);
      if (report.tempFilesRemoved.length > 0) lines.push(`  deleted ${report.tempFilesRemoved.join(', ')}`);
      if (report.endListAdded) lines.push('  added EXT-X-ENDLIST');
      lines.push(
        `check: ${check.segmentCount} segments, ${check.ok ? 'ok' : `${check.badSegments} with problems`}`,
      );
      for (const p of check.problems) lines.push(`  problem: ${p}`);
      for (const p of segmentProblems(check)) lines.push(`  ${p.uri}: ${p.problem}`);
      if (check.badSegments > 0)
        lines.push('  (segments the playlist already listed are not modified by repair)');
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return check.ok ? EXIT.ok : EXIT.failure;
  },
};

/** One entry per segment that failed the check: its violation counts, or why it could not be read. */
function segmentProblems(check: PlaylistProbe): Array<{ uri: string; problem: string }> {
  return check.segments
    .filter((s) => !s.ok)
    .map((s) => ({
      uri: s.uri,
      problem:
        s.mp4 !== null
          ? s.mp4.violations.join('; ')
          : s.report === null
            ? (s.error ?? 'unreadable')
            : Object.entries(s.report.violationCounts)
                .map(([code, n]) => `${code} ×${n}`)
                .join(', '),
    }));
}
