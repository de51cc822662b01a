/**
 * A live status line for long-running commands (`record`, `demo`): on a terminal one line rewritten in
 * place (ANSI "erase line", ECMA-48 EL), elsewhere a plain line every `plainIntervalMs` so logs stay
 * readable.
 */

import type { TextOutput } from './io.js';

/** What the status line shows. The caller samples it from the recorder. */
export interface StatusSnapshot {
  /** Time since the recording started, ms. */
  elapsedMs: number;
  /** Bytes written to disk so far. */
  bytes: number;
  /** Frames per second, or null when unknown (audio only, not started). */
  fps?: number | null;
  /** Frames dropped so far. */
  drops?: number;
  /** When the last write reached the disk (ms since the epoch), or null before the first. */
  lastWriteAt?: number | null;
  /** Bits per second; when omitted, {@link StatusLine} derives it from `bytes` between samples. */
  bitrate?: number | null;
  /** A short name shown first (room, file). */
  label?: string;
}

/** `h:mm:ss` (or `m:ss` under an hour). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Decimal byte size: `812 B`, `1.5 kB`, `12.3 MB`, `1.02 GB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${Math.max(0, Math.round(n))} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1000) break;
    v /= 1000;
    unit = u;
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${unit}`;
}

/** Bit rate: `96 kb/s`, `2.45 Mb/s`; `– b/s` when unknown. */
export function formatBitrate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined || !Number.isFinite(bps)) return '– b/s';
  if (bps < 1000) return `${Math.round(bps)} b/s`;
  if (bps < 1e6) return `${Math.round(bps / 1000)} kb/s`;
  return `${(bps / 1e6).toFixed(2)} Mb/s`;
}

/** How long ago the last disk write was: `0.2 s ago`, `never`. */
export function formatLastWrite(lastWriteAt: number | null | undefined, now: number): string {
  if (lastWriteAt === null || lastWriteAt === undefined) return 'never';
  return `${(Math.max(0, now - lastWriteAt) / 1000).toFixed(1)} s ago`;
}

/**
 * One status line: `label  rec 1:02:03  12.3 MB  2.45 Mb/s  30.0 fps  0 drops  write 0.2 s ago`.
 * Fields the snapshot leaves out are left out.
 */
export function formatStatus(s: StatusSnapshot, now: number): string {
  const parts: string[] = [];
  if (s.label !== undefined && s.label !== '') parts.push(s.label);
  parts.push(`rec ${formatElapsed(s.elapsedMs)}`, formatBytes(s.bytes), formatBitrate(s.bitrate));
  if (s.fps !== undefined) parts.push(s.fps === null ? '– fps' : `${s.fps.toFixed(1)} fps`);
  if (s.drops !== undefined) parts.push(`${s.drops} ${s.drops === 1 ? 'drop' : 'drops'}`);
  if (s.lastWriteAt !== undefined) parts.push(`write ${formatLastWrite(s.lastWriteAt, now)}`);
  return parts.join('  ');
}

/** Options of {@link StatusLine}. */
export interface StatusLineOptions {
  /** Where to write (usually `process.stderr`). Its `isTTY` picks the mode unless `tty` is given. */
  output: TextOutput;
  /** Takes the current figures. */
  sample: () => StatusSnapshot;
  /** Force terminal (rewritten line) or plain mode. Default `output.isTTY === true`. */
  tty?: boolean;
  /** Terminal refresh interval, ms. Default 1000. */
  ttyIntervalMs?: number;
  /** Interval of plain lines, ms. Default 10 000. */
  plainIntervalMs?: number;
  /** Clock (ms since the epoch); injectable for tests. Default `Date.now`. */
  now?: () => number;
}

/** Bit rate window: long enough to smooth out keyframes. */
const BITRATE_WINDOW_MS = 3000;

/**
 * Prints a {@link StatusSnapshot} periodically. `start()` runs a timer (unref'd: it never keeps the
 * process alive); `tick()` prints once, for callers that drive it themselves; `stop()` prints a
 * final plain line and ends the rewritten one.
 */
export class StatusLine {
  /** True when writing a rewritten terminal line. */
  readonly tty: boolean;
  private readonly output: TextOutput;
  private readonly sample: () => StatusSnapshot;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly history: Array<{ t: number; bytes: number }> = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  /** @param options see {@link StatusLineOptions}. */
  constructor(options: StatusLineOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.output?.write !== 'function') throw new TypeError('options.output must have write()');
    if (typeof options.sample !== 'function') throw new TypeError('options.sample must be a function');
    this.output = options.output;
    this.sample = options.sample;
    this.tty = options.tty ?? options.output.isTTY === true;
    const interval = this.tty ? (options.ttyIntervalMs ?? 1000) : (options.plainIntervalMs ?? 10_000);
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new RangeError(
        `options.${this.tty ? 'ttyIntervalMs' : 'plainIntervalMs'} must be a positive number`,
      );
    }
    this.intervalMs = interval;
    this.now = options.now ?? Date.now;
  }

  /** Starts printing every interval. */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** The line for the current sample, with the bit rate derived over the last few seconds if needed. */
  render(): string {
    const now = this.now();
    const s = this.sample();
    this.history.push({ t: now, bytes: s.bytes });
    while (this.history.length > 2 && now - this.history[1]!.t >= BITRATE_WINDOW_MS) this.history.shift();
    let bitrate = s.bitrate;
    if (bitrate === undefined) {
      const first = this.history[0]!;
      bitrate = now > first.t ? ((s.bytes - first.bytes) * 8000) / (now - first.t) : null;
    }
    return formatStatus({ ...s, bitrate }, now);
  }

  /** Prints the status once. */
  tick(): void {
    const line = this.render();
    if (!this.tty) {
      this.output.write(`${line}\n`);
      return;
    }
    const columns = this.output.columns;
    const fitted =
      columns !== undefined && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
    // CR, erase the whole line (CSI 2 K), then the new text: no leftovers from a longer previous line.
    this.output.write(`\r\x1b[2K${fitted}`);
  }

  /** Stops the timer and prints the final figures on a line of their own. */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    const line = this.render();
    if (this.tty) this.output.write(`\r\x1b[2K${line}\n`);
    else this.output.write(`${line}\n`);
  }
}
