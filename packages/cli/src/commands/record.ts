/**
 * `trackrec record`: joins a LiveKit room as a hidden recorder and records one participant (`--identity`)
 * or everyone (`--all`) with `@trackrec/core`, until Ctrl-C, the participant leaving or the room ending.
 */

import { mkdirSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type {
  ConnectOptions,
  RecordingInfo,
  RecordingOptions,
  RoomRecorder,
  TrackRecording,
} from '@trackrec/core';
import { fileOption, numberOption, outputFormats, UsageError } from '../args.js';
import { EXIT, type TextOutput, writeJsonLine } from '../io.js';
import { checkOutputs, describeRecording, type OutputCheck } from '../report.js';
import { loadCore } from '../rtc.js';
import { StatusLine } from '../status-line.js';
import type { Command } from './command.js';
import { warningLogger } from './demo.js';

const NAME = 'record';
/** Default of `--out`: relative to the working directory. */
export const DEFAULT_OUT = 'recordings/{room_name}-{publisher_identity}-{time}';
const DEFAULT_NAME = '{room_name}-{publisher_identity}-{time}';

/** What `record` needs from the outside world; tests replace `connect` (no LiveKit server in CI). */
export interface RecordDeps {
  /** Joins the room; default `RoomRecorder.connect` of `@trackrec/core`. */
  connect?: (options: ConnectOptions) => Promise<RoomRecorder>;
  /** Interval of plain status lines and JSON `status` events, ms. Default 10 000. */
  statusIntervalMs?: number;
}

/**
 * Splits an output template into the directory before its first placeholder (made absolute against
 * `cwd`) and the file template under it. A template without placeholders names a directory.
 */
export function splitOutTemplate(template: string, cwd: string): { outputDir: string; filepath: string } {
  const normalized = template.replaceAll('\\', '/');
  const brace = normalized.indexOf('{');
  if (brace < 0) return { outputDir: resolve(cwd, normalized), filepath: DEFAULT_NAME };
  const cut = normalized.lastIndexOf('/', brace);
  const dir = cut < 0 ? '.' : normalized.slice(0, cut) || '/';
  const filepath = normalized.slice(cut + 1).replace(/\.(?:ts|mp4)$/i, '');
  if (filepath === '' || filepath.endsWith('/')) {
    throw new UsageError(`--out must end with a file name template (got ${JSON.stringify(template)})`, NAME);
  }
  return { outputDir: resolve(cwd, dir), filepath };
}

/** A flag, else an environment variable, else a usage error naming both. */
function required(
  values: Record<string, unknown>,
  flag: string,
  env: Record<string, string | undefined>,
  variable: string,
): string {
  const v = values[flag];
  if (typeof v === 'string' && v !== '') return v;
  const e = env[variable];
  if (e !== undefined && e !== '') return e;
  throw new UsageError(`missing --${flag} (or ${variable} in the environment)`, NAME);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A short name for a recording in status and summaries: its file or playlist name. */
function labelOf(info: RecordingInfo): string {
  return info.file?.filename ?? info.segments?.playlistName ?? info.id;
}

/** The JSON form of a finished recording. */
function endedEvent(
  rec: TrackRecording,
  info: RecordingInfo,
  checks: OutputCheck[],
): Record<string, unknown> {
  const m = rec.metrics();
  return {
    type: 'recording_ended',
    id: info.id,
    status: info.status,
    error: info.error,
    details: info.details,
    file:
      info.file === null
        ? null
        : { location: info.file.location, size: info.file.size, duration: info.file.duration },
    segments:
      info.segments === null
        ? null
        : {
            playlistLocation: info.segments.playlistLocation,
            segmentCount: info.segments.segmentCount,
            size: info.segments.size,
            duration: info.segments.duration,
          },
    durationMs: m.durationMs,
    video:
      m.video === null
        ? null
        : {
            framesIn: m.video.framesIn,
            framesEncoded: m.video.framesEncoded,
            framesDropped: m.video.framesDropped,
            fillerFrames: m.video.fillerFrames,
          },
    audio:
      m.audio === null
        ? null
        : { framesIn: m.audio.framesIn, silenceMs: m.audio.silenceMs, droppedMs: m.audio.droppedMs },
    checks: checks.map(({ details: _d, ...c }) => c),
  };
}

/** Builds the `record` command; `deps` lets tests join a stand-in room. */
export function createRecordCommand(deps: RecordDeps = {}): Command {
  return {
    name: NAME,
    summary: 'join a LiveKit room and record a participant (or everyone) to .ts/.mp4 and HLS',
    handlesSignals: true,
    help: `Usage: trackrec record --room <name> (--identity <id> | --all) [options]

Joins a LiveKit room as a hidden, subscribe-only recorder (a token minted from the API key and
secret) and records in-process with @trackrec/core: --identity records one participant's camera
and microphone into one file until they leave; --all records every participant, present and
joining, each in their own file, until stopped. Files grow on disk and play at every moment.
Ctrl-C (SIGINT) or SIGTERM stops cleanly: encoders flushed, files closed, playlists ended, then
each output is checked as trackrec probe would. A second Ctrl-C exits at once (outputs are left
as a crash leaves them: trackrec repair makes them whole).

Options:
  --url <wss://…>          LiveKit server URL (or LIVEKIT_URL)
  --api-key <key>          API key (or LIVEKIT_API_KEY)
  --api-secret <secret>    API secret (or LIVEKIT_API_SECRET)
  --room <name>            room to record
  --identity <id>          record this participant (camera + microphone)
  --all                    record every participant
  --format <fmt>           ts (default) or mp4: fragmented while recording, rewritten as a
                           standard progressive MP4 (moov first) on a clean stop
  --hls                    also write HLS (4 s segments, EVENT playlist) next to each file
  --hls-format <fmt>       ts (default) or fmp4 (EXT-X-MAP init segment + .m4s segments)
  --out <template>         output path template (default ${DEFAULT_OUT});
                           placeholders {room_name} {room_id} {publisher_identity} {time} {utc};
                           .ts (.mp4) is added; with --hls the HLS goes to <name>/index.m3u8
  --audio <codec>          aac (default) or opus
  --connect-timeout <s>    give up joining after this long (default 10)
  --json                   JSON Lines events on stdout instead of the status line and summary
  -h, --help               this help

Exit codes: 0 every recording finished and checks clean, 1 a recording failed or a check found
violations, 2 usage error, 3 could not join the room (unreachable server, bad URL or credentials,
timeout), 130 aborted by a second Ctrl-C (or by Ctrl-C while still joining).`,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'api-secret': { type: 'string' },
      room: { type: 'string' },
      identity: { type: 'string' },
      all: { type: 'boolean' },
      format: { type: 'string' },
      hls: { type: 'boolean' },
      'hls-format': { type: 'string' },
      out: { type: 'string' },
      audio: { type: 'string' },
      'connect-timeout': { type: 'string' },
      json: { type: 'boolean' },
    },
    async run({ values, positionals, io }) {
      if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`, NAME);
      const env = io.env ?? process.env;
      const url = required(values, 'url', env, 'LIVEKIT_URL');
      const apiKey = required(values, 'api-key', env, 'LIVEKIT_API_KEY');
      const apiSecret = required(values, 'api-secret', env, 'LIVEKIT_API_SECRET');
      const roomName = values.room;
      if (typeof roomName !== 'string' || roomName === '') throw new UsageError('missing --room', NAME);
      const identity = values.identity as string | undefined;
      const all = values.all === true;
      if ((identity === undefined) === !all) {
        throw new UsageError('give exactly one of --identity <id> and --all', NAME);
      }
      if (identity === '') throw new UsageError('--identity must not be empty', NAME);
      const audioCodec = (values.audio as string | undefined) ?? 'aac';
      if (audioCodec !== 'aac' && audioCodec !== 'opus') {
        throw new UsageError(`--audio must be aac or opus (got ${JSON.stringify(audioCodec)})`, NAME);
      }
      const timeoutS = numberOption(NAME, values, 'connect-timeout', { min: 0.1, max: 3600 }) ?? 10;
      const { outputDir, filepath } = splitOutTemplate(
        (values.out as string | undefined) ?? DEFAULT_OUT,
        io.cwd ?? process.cwd(),
      );
      const json = values.json === true;
      const hls = values.hls === true;
      const formats = outputFormats(NAME, values);
      // On a terminal, a message first erases the status line it interrupts.
      const say = (text: string): void => {
        if (!json) io.stderr.write(`${io.stderr.isTTY === true ? '\r\x1b[2K' : ''}${text}\n`);
      };
      const event = (e: Record<string, unknown>): void => {
        if (json) writeJsonLine(io.stdout, { time: new Date().toISOString(), ...e });
      };

      try {
        mkdirSync(outputDir, { recursive: true });
      } catch (err) {
        io.stderr.write(`trackrec record: cannot create ${outputDir}${sep}: ${errorText(err)}\n`);
        return EXIT.failure;
      }
      const core = await loadCore();
      const connect = deps.connect ?? ((o: ConnectOptions) => core.RoomRecorder.connect(o));
      const defaults: Omit<RecordingOptions, 'mode' | 'id'> = {
        outputDir,
        file: fileOption(filepath, formats),
        ...(hls
          ? {
              segments: {
                filenamePrefix: `${filepath}/index`,
                segmentDuration: 4,
                ...(formats.hls === 'fmp4' ? { segmentType: 'fmp4' as const } : {}),
              },
            }
          : {}),
        encoding: { audioCodec },
        logger: warningLogger(io.stderr, 'trackrec record'),
      };

      say(`joining room ${roomName} at ${url}…`);
      let recorder: RoomRecorder;
      const joining = connect({
        url,
        apiKey,
        apiSecret,
        roomName,
        connectTimeoutMs: timeoutS * 1000,
        defaults,
      });
      // Ctrl-C while joining gives up at once; a join that completes afterwards is left again.
      const interrupted = Symbol('interrupted');
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<typeof interrupted>((done) => {
        onAbort = () => done(interrupted);
        if (io.signal?.aborted === true) onAbort();
        else io.signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const joined = await Promise.race([joining, aborted]);
        if (joined === interrupted) {
          void joining.then((r) => r.close()).catch(() => {});
          event({ type: 'error', code: 'INTERRUPTED', message: 'stopped while joining the room' });
          io.stderr.write('trackrec record: stopped while joining the room\n');
          return EXIT.interrupted;
        }
        recorder = joined;
      } catch (err) {
        const code = err instanceof core.RecorderError ? err.code : 'CONNECT_FAILED';
        event({ type: 'error', code, message: errorText(err) });
        io.stderr.write(`trackrec record: ${errorText(err)}\n`);
        return err instanceof TypeError || err instanceof RangeError ? EXIT.usage : EXIT.connect;
      }
      if (onAbort !== undefined) io.signal?.removeEventListener('abort', onAbort);
      event({ type: 'connected', url, room: roomName, outputDir });
      say(
        `joined ${roomName}; recording ${all ? 'every participant' : identity} into ${outputDir} (Ctrl-C to stop)`,
      );

      // Every recording, with its checks once it ended; the summary reports them all.
      const recordings: TrackRecording[] = [];
      const finished = new Map<TrackRecording, Promise<{ info: RecordingInfo; checks: OutputCheck[] }>>();
      const onRecording = (rec: TrackRecording): void => {
        recordings.push(rec);
        rec.once('started', (info) =>
          event({
            type: 'recording_started',
            id: info.id,
            mode: info.mode,
            file: info.file?.location ?? null,
            playlist: info.segments?.playlistLocation ?? null,
          }),
        );
        rec.on('health', (w) => event({ type: 'health', id: w.id, code: w.code, message: w.message }));
        finished.set(
          rec,
          new Promise((done) => {
            rec.once('ended', (info) => {
              void (async () => {
                const checks = info.status === 'FAILED' ? [] : await checkOutputs(info).catch(() => []);
                event(endedEvent(rec, info, checks));
                done({ info, checks });
              })();
            });
          }),
        );
      };
      recorder.on('recording', onRecording);

      // Runs until a signal, the room ending, or (--identity) the participant's recording ending.
      let reason = 'signal';
      const stopped = new Promise<void>((done) => {
        const signal = io.signal;
        if (signal?.aborted === true) return done();
        signal?.addEventListener('abort', () => done(), { once: true });
        (recorder.room as unknown as NodeJS.EventEmitter).once('disconnected', () => {
          reason = 'room_disconnected';
          done();
        });
      });

      let status: StatusLine | null = null;
      let jsonTimer: ReturnType<typeof setInterval> | null = null;
      const t0 = Date.now();
      const sample = () => {
        let bytes = 0;
        let drops = 0;
        let frames = 0;
        let last: number | null = null;
        const active = recordings.filter((r) => !r.ended);
        for (const r of active) {
          const m = r.metrics();
          bytes += m.bytesWritten;
          drops += m.video?.framesDropped ?? 0;
          frames += m.video?.framesEncoded ?? 0;
          if (m.lastDiskWriteAt !== null) last = Math.max(last ?? 0, m.lastDiskWriteAt);
        }
        return {
          label: `${roomName} (${active.length} rec)`,
          elapsedMs: Date.now() - t0,
          bytes,
          drops,
          frames,
          lastWriteAt: last,
        };
      };
      if (json) {
        jsonTimer = setInterval(() => {
          const { label: _l, ...s } = sample();
          event({ type: 'status', recordings: recordings.filter((r) => !r.ended).length, ...s });
        }, deps.statusIntervalMs ?? 10_000);
        jsonTimer.unref();
      } else {
        status = new StatusLine({
          output: io.stderr,
          sample: () => {
            const { frames: _f, ...s } = sample();
            return s;
          },
          ...(deps.statusIntervalMs === undefined ? {} : { plainIntervalMs: deps.statusIntervalMs }),
        });
        status.start();
      }

      let failure: string | null = null;
      try {
        if (identity !== undefined) {
          const rec = await recorder.recordParticipant(identity);
          const ended = new Promise<void>((done) => {
            if (rec.ended) done();
            else rec.once('ended', () => done());
          });
          await Promise.race([
            stopped,
            ended.then(() => {
              if (reason === 'signal') reason = 'recording_ended';
            }),
          ]);
        } else {
          await recorder.startAuto();
          await stopped;
        }
      } catch (err) {
        failure = errorText(err);
        reason = 'error';
      }
      event({ type: 'stopping', reason });
      say(`stopping (${reason.replaceAll('_', ' ')})…`);
      await recorder.close();
      if (jsonTimer !== null) clearInterval(jsonTimer);
      status?.stop();
      const results = await Promise.all(recordings.map((r) => finished.get(r)!));

      let ok = failure === null;
      const lines: string[] = [];
      if (failure !== null) lines.push(`error: ${failure}`);
      results.forEach(({ info, checks }, i) => {
        const rec = recordings[i]!;
        if (info.status === 'FAILED' || info.status === 'ABORTED') ok = false;
        lines.push(...describeRecording(info, rec.metrics(), labelOf(info)));
        for (const c of checks) {
          if (!c.ok) ok = false;
          lines.push(`  check     ${c.kind} ${c.summary}`);
          if (!c.ok && c.details !== '') lines.push(...c.details.split('\n').map((l) => `            ${l}`));
        }
      });
      if (results.length === 0) lines.push('no recording was made');
      lines.push(ok ? 'result: ok' : 'result: FAILED');
      const code = ok ? EXIT.ok : EXIT.failure;
      if (json)
        event({
          type: 'summary',
          reason,
          recordings: results.length,
          ok,
          exitCode: code,
          ...(failure === null ? {} : { error: failure }),
        });
      else (io.stdout as TextOutput).write(`${lines.join('\n')}\n`);
      return code;
    },
  };
}

/** `trackrec record`. */
export const recordCommand: Command = createRecordCommand();
