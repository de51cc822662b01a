/**
 * A local HTTP server (RFC 9110 semantics, node:http) for recordings: a page that lists and plays them,
 * the players (hls.js, mpegts.js) from node_modules, playlists (RFC 8216) and MPEG-TS files with byte
 * ranges (RFC 9110 §14), and a growing `.ts` followed as it grows over chunked transfer.
 *
 * Only files under the root are served: each path segment is decoded once and refused when it is
 * empty, `.`/`..`, or holds `/`, `\` or NUL; the real path (symbolic links resolved) must stay under
 * the root's real path. Requests whose Host is not this loopback server are refused (DNS rebinding).
 */

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { parseMediaPlaylist } from './m3u8.js';
import { APP_JS, PAGE_HTML } from './page.js';

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** Directory whose recordings are served. */
  root: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 0. */
  port?: number;
  /**
   * A followed `.ts` ends once it has not grown for this long (ms); the listing also calls a file
   * "growing" when it was modified more recently than this. Default 10 000.
   */
  followIdleMs?: number;
  /** How often a followed file's size is polled (ms). Default 200. */
  pollMs?: number;
  /** Called with `METHOD target status` when each response ends: a request log. */
  log?: (line: string) => void;
}

/** A running server. */
export interface RecordingServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  /** Stops listening, ends followed streams and closes every connection. */
  close(): Promise<void>;
}

/** One recording of the listing (`GET /api/recordings`). */
export interface RecordingEntry {
  /** Path relative to the root, `/`-separated. */
  path: string;
  /** `hls` for a playlist (TS or fMP4 segments), `ts` for a single MPEG-TS file, `mp4` for an MP4 file. */
  kind: 'hls' | 'ts' | 'mp4';
  /** File size (the playlist's own size for HLS). */
  bytes: number;
  /** Last modification, ms since the epoch. */
  modified: number;
  /** Still being written: a playlist without EXT-X-ENDLIST, or a `.ts`/`.mp4` modified within `followIdleMs`. */
  live: boolean;
  /** HLS: segments listed. */
  segments?: number;
  /** HLS: sum of EXTINF, seconds. */
  duration?: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.mp4': 'video/mp4',
  // RFC 8216 §3.3 / the IANA registration for fMP4 media segments.
  '.m4s': 'video/iso.segment',
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
};

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; media-src 'self' blob:; " +
  "connect-src 'self'; worker-src 'self' blob:; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/** Directory levels below the root that the listing walks. */
const MAX_DEPTH = 4;
/** Bytes read per step of a followed file. */
const FOLLOW_CHUNK = 256 * 1024;

const require = createRequire(import.meta.url);

/** The players, resolved from node_modules when first asked for (no CDN). */
const VENDOR = new Map([
  ['/vendor/hls.min.js', 'hls.js/dist/hls.min.js'],
  ['/vendor/mpegts.js', 'mpegts.js/dist/mpegts.js'],
]);

/** Starts the server on 127.0.0.1. */
export async function startServer(options: ServeOptions): Promise<RecordingServer> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (typeof options.root !== 'string' || options.root.length === 0) {
    throw new TypeError('options.root must be a non-empty string');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError('options.port must be an integer between 0 and 65535');
  }
  const followIdleMs = options.followIdleMs ?? 10_000;
  if (!Number.isFinite(followIdleMs) || followIdleMs <= 0) {
    throw new RangeError('options.followIdleMs must be a positive number');
  }
  const pollMs = options.pollMs ?? 200;
  if (!Number.isFinite(pollMs) || pollMs <= 0)
    throw new RangeError('options.pollMs must be a positive number');
  const root = await realpath(resolve(options.root));
  if (!(await stat(root)).isDirectory()) throw new TypeError(`options.root ${root} is not a directory`);

  const stopping = new AbortController();
  const context: Context = { root, followIdleMs, pollMs, port: 0, stop: stopping.signal };
  const log = options.log;
  if (log !== undefined && typeof log !== 'function') throw new TypeError('options.log must be a function');
  const server: Server = createServer((req, res) => {
    if (log !== undefined) {
      res.on('close', () => {
        log(`${req.method} ${req.url} ${res.statusCode}${res.writableFinished ? '' : ' (aborted)'}`);
      });
    }
    handle(context, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy(err instanceof Error ? err : undefined);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  context.port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${context.port}/`,
    port: context.port,
    async close() {
      stopping.abort();
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface Context {
  root: string;
  followIdleMs: number;
  pollMs: number;
  port: number;
  stop: AbortSignal;
}

function baseHeaders(type: string): Record<string, string> {
  return { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' };
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array): void {
  res.writeHead(status, { ...baseHeaders(type), 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function refuse(res: ServerResponse, status: 400 | 403 | 404 | 405 | 416, why: string): void {
  send(res, status, 'text/plain; charset=utf-8', `${why}\n`);
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const allowedHosts = [`127.0.0.1:${ctx.port}`, `localhost:${ctx.port}`];
  if (!allowedHosts.includes((req.headers.host ?? '').toLowerCase())) {
    refuse(res, 403, 'forbidden host');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    refuse(res, 405, 'method not allowed');
    return;
  }
  // The raw target, not `new URL()`: URL parsing would resolve `..` segments before we can refuse them.
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));

  if (path === '/' || path === '/index.html') {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-cache');
    send(res, 200, CONTENT_TYPES['.html']!, PAGE_HTML);
    return;
  }
  if (path === '/app.js') {
    send(res, 200, CONTENT_TYPES['.js']!, APP_JS);
    return;
  }
  const vendor = VENDOR.get(path);
  if (vendor !== undefined) {
    res.setHeader('Cache-Control', 'max-age=3600');
    send(res, 200, CONTENT_TYPES['.js']!, await readFile(require.resolve(vendor)));
    return;
  }
  if (path === '/api/recordings') {
    res.setHeader('Cache-Control', 'no-cache');
    const recordings = await listRecordings(ctx.root, ctx.followIdleMs);
    send(res, 200, CONTENT_TYPES['.json']!, JSON.stringify({ recordings }));
    return;
  }
  if (path.startsWith('/media/')) {
    const follow = query.get('follow') === '1' ? (query.get('from') === 'live' ? 'live' : 'start') : null;
    await serveMedia(ctx, req, res, path.slice('/media/'.length), follow);
    return;
  }
  refuse(res, 404, 'not found');
}

/** Decodes a `/`-separated request path under the root; null when any segment is refused. */
export function safeRelativePath(encoded: string): string[] | null {
  const parts: string[] = [];
  for (const raw of encoded.split('/')) {
    let part: string;
    try {
      part = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (part === '' || part === '.' || part === '..') return null;
    if (part.includes('/') || part.includes('\\') || part.includes('\0')) return null;
    parts.push(part);
  }
  return parts;
}

function inside(root: string, real: string): boolean {
  const rel = relative(root, real);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !rel.startsWith(sep);
}

async function serveMedia(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  encoded: string,
  follow: 'start' | 'live' | null,
): Promise<void> {
  const parts = safeRelativePath(encoded);
  if (parts === null) {
    refuse(res, 403, 'forbidden path');
    return;
  }
  let real: string;
  try {
    real = await realpath(join(ctx.root, ...parts));
  } catch {
    refuse(res, 404, 'not found');
    return;
  }
  if (!inside(ctx.root, real)) {
    refuse(res, 403, 'forbidden path');
    return;
  }
  const info = await stat(real);
  if (!info.isFile()) {
    refuse(res, 404, 'not found');
    return;
  }
  const ext = extname(real).toLowerCase();
  const type = CONTENT_TYPES[ext] ?? 'application/octet-stream';
  if (ext === '.m3u8') {
    // A playlist changes while recording: never cached, never ranged (it is small and rewritten whole).
    res.setHeader('Cache-Control', 'no-cache');
    send(res, 200, type, await readFile(real));
    return;
  }
  if (follow !== null && ext === '.ts') {
    await followFile(ctx, req, res, real, type, follow);
    return;
  }
  serveFile(req, res, real, info.size, type);
}

/** Parses a single `bytes=` range (RFC 9110 §14.1.2); null to serve the whole file, 'invalid' for 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'invalid' {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: RFC 9110 lets a server ignore the header and send everything.
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
    if (b !== '' && Number(b) < start) return null;
  }
  if (start >= size) return 'invalid';
  return { start, end };
}

function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  size: number,
  type: string,
): void {
  const range = parseRange(req.headers.range, size);
  const headers: Record<string, string> = {
    ...baseHeaders(type),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  if (range === 'invalid') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  if (range !== null) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  headers['Content-Length'] = String(length);
  res.writeHead(range === null ? 200 : 206, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  // The size was taken at stat time: a growing file is served as it was then.
  const stream = createReadStream(path, { start, end });
  stream.on('error', (err) => res.destroy(err));
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/**
 * Streams a file and keeps following it as it grows (chunked transfer, no Content-Length) until it
 * has not grown for `followIdleMs`, shrinks, the client goes away or the server stops. From its start,
 * or with `from` `'live'` from the tables before its last video random access point (see
 * {@link liveStartOffset}), so a viewer joining a long recording starts near the live edge.
 */
async function followFile(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  type: string,
  from: 'start' | 'live',
): Promise<void> {
  res.writeHead(200, { ...baseHeaders(type), 'Cache-Control': 'no-cache' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let gone = false;
  const onGone = (): void => {
    gone = true;
  };
  res.on('close', onGone);
  const handle: FileHandle = await open(path, 'r');
  try {
    let position = from === 'live' ? await liveStartOffset(handle, (await handle.stat()).size) : 0;
    let lastGrowth = Date.now();
    while (!gone && !ctx.stop.aborted) {
      const { size } = await handle.stat();
      if (size < position) break; // truncated or replaced: what was sent no longer matches
      if (size > position) {
        // A fresh buffer per write: the response keeps a reference until it is flushed.
        const chunk = Buffer.allocUnsafe(Math.min(size - position, FOLLOW_CHUNK));
        const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        lastGrowth = Date.now();
        if (!res.write(chunk.subarray(0, bytesRead))) await drainOrClose(res);
        continue;
      }
      if (Date.now() - lastGrowth >= ctx.followIdleMs) break;
      await sleep(ctx.pollMs, ctx.stop);
    }
  } finally {
    res.off('close', onGone);
    await handle.close();
    if (!res.writableEnded) res.end();
  }
}

/** Bytes from the end of a file searched for a random access point (≈ 85 s at 3 Mb/s). */
const LIVE_SCAN_BYTES = 188 * 170_000;
/** Packets before a random access point searched for the PAT the muxer writes ahead of it. */
const PAT_LOOKBACK_PACKETS = 16;

/**
 * Where a viewer joining a growing MPEG-TS file (ISO/IEC 13818-1) should start: the PAT just before the
 * last video PES that starts a random access point (payload_unit_start_indicator, random_access_indicator
 * in the adaptation field, PES stream_id 0xE0–0xEF), searched in the last {@link LIVE_SCAN_BYTES}; the
 * packet of that PES if no PAT precedes it closely; 0 when there is none. trackrec's muxer writes PAT and
 * PMT before every IDR, so the stream from there decodes on its own.
 */
async function liveStartOffset(handle: FileHandle, size: number): Promise<number> {
  const end = size - (size % 188);
  const floor = Math.max(0, end - LIVE_SCAN_BYTES);
  const chunkPackets = 5000;
  const buf = new Uint8Array(188 * chunkPackets);
  for (let chunkEnd = end; chunkEnd > floor; chunkEnd -= buf.byteLength) {
    const chunkStart = Math.max(floor, chunkEnd - buf.byteLength);
    const bytes = buf.subarray(0, chunkEnd - chunkStart);
    await readFully(handle, bytes, chunkStart);
    for (let p = bytes.byteLength - 188; p >= 0; p -= 188) {
      if (!isVideoRandomAccess(bytes, p)) continue;
      const at = chunkStart + p;
      const back = Math.min(at, 188 * PAT_LOOKBACK_PACKETS);
      const before = new Uint8Array(back);
      await readFully(handle, before, at - back);
      for (let q = back - 188; q >= 0; q -= 188) {
        const pid = ((before[q + 1]! & 0x1f) << 8) | before[q + 2]!;
        if (before[q] === 0x47 && pid === 0 && (before[q + 1]! & 0x40) !== 0) return at - back + q;
      }
      return at;
    }
  }
  return 0;
}

function isVideoRandomAccess(b: Uint8Array, p: number): boolean {
  if (b[p] !== 0x47 || (b[p + 1]! & 0x40) === 0) return false; // sync_byte, payload_unit_start_indicator
  const afc = (b[p + 3]! >> 4) & 3; // adaptation_field_control
  if (afc !== 3) return false;
  const afLength = b[p + 4]!; // adaptation_field_length
  if (afLength === 0 || (b[p + 5]! & 0x40) === 0) return false; // random_access_indicator
  const s = p + 5 + afLength;
  if (s + 4 > p + 188) return false;
  // packet_start_code_prefix 00 00 01, stream_id of a video stream.
  return b[s] === 0 && b[s + 1] === 0 && b[s + 2] === 1 && (b[s + 3]! & 0xf0) === 0xe0;
}

async function readFully(handle: FileHandle, into: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new Error('file shrank while being read');
    done += bytesRead;
  }
}

function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((done) => {
    const finish = (): void => {
      res.off('drain', finish);
      res.off('close', finish);
      done();
    };
    res.on('drain', finish);
    res.on('close', finish);
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

/**
 * The recordings under `root`: every non-hidden `.m3u8` (HLS), and every `.ts` or `.mp4` in a directory that
 * has no playlist (a single-file recording; segments of an HLS recording are not listed twice).
 * Symbolic links that lead outside the root are skipped.
 */
export async function listRecordings(root: string, followIdleMs = 10_000): Promise<RecordingEntry[]> {
  const base = await realpath(resolve(root));
  const out: RecordingEntry[] = [];
  const now = Date.now();
  const walk = async (dir: string, depth: number): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
    } catch {
      return;
    }
    const files: Array<{ name: string; real: string; size: number; mtime: number }> = [];
    for (const name of names) {
      let real: string;
      try {
        real = await realpath(join(dir, name));
      } catch {
        continue;
      }
      if (!inside(base, real)) continue;
      const info = await stat(real).catch(() => null);
      if (info === null) continue;
      if (info.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(join(dir, name), depth + 1);
      } else if (info.isFile()) {
        files.push({ name, real, size: info.size, mtime: info.mtimeMs });
      }
    }
    const playlists = files.filter((f) => f.name.toLowerCase().endsWith('.m3u8'));
    const rel = (name: string): string => relative(base, join(dir, name)).split(sep).join('/');
    for (const f of playlists) {
      const parsed = parseMediaPlaylist(await readFile(f.real, 'utf8').catch(() => ''));
      out.push({
        path: rel(f.name),
        kind: 'hls',
        bytes: f.size,
        modified: f.mtime,
        live: !parsed.ended,
        segments: parsed.segments.length,
        duration: parsed.segments.reduce((sum, s) => sum + (s.duration ?? 0), 0),
      });
    }
    if (playlists.length > 0) return;
    for (const f of files.filter((x) => /\.(?:ts|mp4)$/i.test(x.name))) {
      out.push({
        path: rel(f.name),
        kind: f.name.toLowerCase().endsWith('.mp4') ? 'mp4' : 'ts',
        bytes: f.size,
        modified: f.mtime,
        live: now - f.mtime < followIdleMs,
      });
    }
  };
  await walk(base, 0);
  return out;
}
