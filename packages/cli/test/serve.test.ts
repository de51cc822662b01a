import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { inspectTs } from '@trackrec/muxer/inspect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange, type RecordingEntry, type RecordingServer, startServer } from '../src/server.js';
import { get } from './helpers/http.js';
import { writeHlsRecording, writeTsRecording } from './helpers/media.js';
import { tempDir } from './helpers/tmp.js';

const base = tempDir('serve');
const root = join(base, 'recordings');
const SECRET = 'secret outside the root\n';
let server: RecordingServer;
let tsBytes: Buffer;

beforeAll(async () => {
  mkdirSync(root);
  writeFileSync(join(base, 'outside.txt'), SECRET);
  await writeTsRecording(join(root, 'a.ts'), { durationS: 2, width: 320, height: 240 });
  await writeHlsRecording(join(root, 'room'), { durationS: 3, width: 320, height: 240, targetDuration: 1 });
  writeFileSync(join(root, 'room', '.playlist.m3u8.tmp'), 'partial');
  symlinkSync(join(base, 'outside.txt'), join(root, 'link-out.ts'));
  symlinkSync(base, join(root, 'dir-out'));
  tsBytes = readFileSync(join(root, 'a.ts'));
  server = await startServer({ root, followIdleMs: 400, pollMs: 20 });
});

afterAll(async () => {
  await server?.close();
});

describe('serve: pages and listing', () => {
  it('listens on 127.0.0.1 and serves the page with a strict CSP', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    const r = await get(server.port, '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toContain("script-src 'self'");
    const html = r.body.toString();
    expect(html).toContain('<script src="/vendor/hls.min.js"></script>');
    expect(html).toContain('<script src="/vendor/mpegts.js"></script>');
    expect(html).not.toMatch(/<script>/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves the players from node_modules, no CDN', async () => {
    const require = createRequire(import.meta.url);
    for (const [path, spec] of [
      ['/vendor/hls.min.js', 'hls.js/dist/hls.min.js'],
      ['/vendor/mpegts.js', 'mpegts.js/dist/mpegts.js'],
    ] as const) {
      const r = await get(server.port, path);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(r.body.equals(readFileSync(require.resolve(spec)))).toBe(true);
    }
  });

  it('lists HLS playlists and single .ts files, not segments, temp files or links that leave the root', async () => {
    const r = await get(server.port, '/api/recordings');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const { recordings } = JSON.parse(r.body.toString()) as { recordings: RecordingEntry[] };
    expect(recordings.map((x) => [x.path, x.kind]).sort()).toEqual([
      ['a.ts', 'ts'],
      ['room/playlist.m3u8', 'hls'],
    ]);
    const hls = recordings.find((x) => x.kind === 'hls')!;
    expect(hls.live).toBe(false);
    expect(hls.segments).toBe(3);
    expect(hls.duration!).toBeGreaterThan(2.9);
    const ts = recordings.find((x) => x.kind === 'ts')!;
    expect(ts.bytes).toBe(tsBytes.byteLength);
  });
});

describe('serve: media', () => {
  it('serves playlists as application/vnd.apple.mpegurl, never cached', async () => {
    const r = await get(server.port, '/media/room/playlist.m3u8');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.body.toString()).toBe(readFileSync(join(root, 'room', 'playlist.m3u8'), 'utf8'));
    const seg = await get(server.port, '/media/room/rec_00001.ts');
    expect(seg.status).toBe(200);
    expect(seg.headers['content-type']).toBe('video/mp2t');
    expect(seg.body.equals(readFileSync(join(root, 'room', 'rec_00001.ts')))).toBe(true);
  });

  it('serves .ts as video/mp2t with byte ranges', async () => {
    const whole = await get(server.port, '/media/a.ts');
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('video/mp2t');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-length']).toBe(String(tsBytes.byteLength));
    expect(whole.body.equals(tsBytes)).toBe(true);

    const mid = await get(server.port, '/media/a.ts', { headers: { Range: 'bytes=188-375' } });
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 188-375/${tsBytes.byteLength}`);
    expect(mid.headers['content-length']).toBe('188');
    expect(mid.body.equals(tsBytes.subarray(188, 376))).toBe(true);

    const open = await get(server.port, '/media/a.ts', {
      headers: { Range: `bytes=${tsBytes.byteLength - 10}-` },
    });
    expect(open.status).toBe(206);
    expect(open.body.equals(tsBytes.subarray(tsBytes.byteLength - 10))).toBe(true);

    const suffix = await get(server.port, '/media/a.ts', { headers: { Range: 'bytes=-376' } });
    expect(suffix.status).toBe(206);
    expect(suffix.body.equals(tsBytes.subarray(tsBytes.byteLength - 376))).toBe(true);

    const beyond = await get(server.port, '/media/a.ts', {
      headers: { Range: `bytes=${tsBytes.byteLength}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${tsBytes.byteLength}`);

    const head = await get(server.port, '/media/a.ts', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(tsBytes.byteLength));
    expect(head.body.byteLength).toBe(0);
  });

  it('parses ranges per RFC 9110', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('invalid');
    expect(parseRange('bytes=-0', 100)).toBe('invalid');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(parseRange('items=0-1', 100)).toBeNull();
    expect(parseRange('bytes=9-3', 100)).toBeNull();
  });

  it('never serves anything outside the root', async () => {
    const attempts = [
      '/media/../outside.txt',
      '/media/..%2foutside.txt',
      '/media/..%2Foutside.txt',
      '/media/%2e%2e/outside.txt',
      '/media/%2e%2e%2foutside.txt',
      '/media/room/..%2f..%2foutside.txt',
      '/media/room/../../outside.txt',
      '/media/..%5coutside.txt',
      '/media/a.ts%00',
      '/media/a.ts%00.m3u8',
      '/media/%00',
      `/media/${encodeURIComponent(join(base, 'outside.txt'))}`,
      `/media/${join(base, 'outside.txt')}`,
      '/media//etc/passwd',
      '/media/%2fetc%2fpasswd',
      '/media/link-out.ts',
      '/media/dir-out/outside.txt',
      '/media/%',
      '/../outside.txt',
      '/media/room',
      '/media/',
    ];
    for (const path of attempts) {
      const r = await get(server.port, path);
      expect([403, 404], path).toContain(r.status);
      expect(r.body.toString(), path).not.toContain('secret');
    }
    expect((await get(server.port, '/media/..%2foutside.txt')).status).toBe(403);
    expect((await get(server.port, '/media/link-out.ts')).status).toBe(403);
    expect((await get(server.port, '/media/nothing.ts')).status).toBe(404);
  });

  it('refuses other hosts (DNS rebinding) and other methods', async () => {
    const evil = await get(server.port, '/api/recordings', { headers: { Host: 'evil.example:80' } });
    expect(evil.status).toBe(403);
    const localhost = await get(server.port, '/api/recordings', {
      headers: { Host: `localhost:${server.port}` },
    });
    expect(localhost.status).toBe(200);
    const post = await get(server.port, '/media/a.ts', { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });
});

/** Descriptors of this process open on `path`. */
function openDescriptors(path: string): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('serve: a growing .ts', () => {
  it('streams bytes appended after the request started, then ends once the file stops growing', async () => {
    const path = join(root, 'growing.ts');
    const cut1 = 188 * 100;
    const cut2 = 188 * 700;
    writeFileSync(path, tsBytes.subarray(0, cut1));
    const received: Buffer[] = [];
    let receivedBytes = 0;
    const done = new Promise<{ status: number; headers: Record<string, unknown>; endedAt: number }>(
      (resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port: server.port, path: '/media/growing.ts?follow=1' },
          (res) => {
            res.on('data', (c: Buffer) => {
              received.push(c);
              receivedBytes += c.byteLength;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, endedAt: Date.now() }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    // Wait until the first part arrived, then let the file grow in two steps.
    while (receivedBytes < cut1) await new Promise((r) => setTimeout(r, 10));
    expect(receivedBytes).toBe(cut1);
    appendFileSync(path, tsBytes.subarray(cut1, cut2));
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(path, tsBytes.subarray(cut2));
    const lastAppendAt = Date.now();
    const res = await done;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp2t');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(Buffer.concat(received).equals(tsBytes)).toBe(true);
    // It ended because the file stopped growing (followIdleMs 400), not before.
    expect(res.endedAt - lastAppendAt).toBeGreaterThanOrEqual(350);
  });

  it('starts a live viewer at the tables before the last keyframe (from=live)', async () => {
    // Two seconds with a keyframe every second: the last IDR is about halfway.
    const path = join(root, 'joined.ts');
    writeFileSync(path, tsBytes);
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/media/joined.ts?follow=1&from=live' },
        (res) => {
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body.byteLength % 188).toBe(0);
    expect(body.byteLength).toBeGreaterThan(tsBytes.byteLength / 4);
    expect(body.byteLength).toBeLessThan((tsBytes.byteLength * 3) / 4);
    // A suffix of the file that starts with a PAT ...
    expect(body.equals(tsBytes.subarray(tsBytes.byteLength - body.byteLength))).toBe(true);
    expect(body[0]).toBe(0x47);
    expect(((body[1]! & 0x1f) << 8) | body[2]!).toBe(0);
    // ... and checks clean on its own: tables first, first video frame an IDR, one keyframe (the last).
    const report = inspectTs(new Uint8Array(body));
    expect(report.violations).toEqual([]);
    const video = report.streams.find((s) => s.codec === 'h264')!;
    expect(video.keyframes).toBe(1);
    expect(video.frames).toBe(30);
  });

  it('stops following when the client goes away', async () => {
    writeFileSync(join(root, 'abandoned.ts'), tsBytes.subarray(0, 188 * 10));
    const path = realpathSync(join(root, 'abandoned.ts'));
    let openWhileFollowing = -1;
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.port, path: '/media/abandoned.ts?follow=1' },
        (res) => {
          res.once('data', () => {
            openWhileFollowing = openDescriptors(path);
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', (err) =>
        (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(err),
      );
      req.end();
    });
    expect(openWhileFollowing).toBe(1);
    // The follow loop notices and closes the file (Linux: the server runs in this process).
    const deadline = Date.now() + 2000;
    while (openDescriptors(path) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(openDescriptors(path)).toBe(0);
    const r = await get(server.port, '/api/recordings');
    expect(r.status).toBe(200);
  });
});
