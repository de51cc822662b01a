/**
 * `trackrec record`: arguments and environment, the connect-failure path against a closed port (the
 * real executable), and whole recordings through `@trackrec/core`'s `RoomRecorder` attached to a
 * stand-in room carrying real rtc-node tracks (no LiveKit server in CI), stopped by a signal, by the
 * participant leaving and by the room ending.
 */

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Room } from '@livekit/rtc-node';
import { type ConnectOptions, RoomRecorder } from '@trackrec/core';
import { describe, expect, it } from 'vitest';
import { closedPort, silentServer } from '../../core/test/net.js';
import { main } from '../src/cli.js';
import { createRecordCommand, splitOutTemplate } from '../src/commands/record.js';
import { EXIT } from '../src/io.js';
import { capture } from './helpers/cli.js';
import { expectFfmpegDecodes, playlistEnded } from './helpers/judge.js';
import { StandInRoom, SyntheticPublisher } from './helpers/rtc.js';
import { tempDir } from './helpers/tmp.js';
import { needTool, onPath, toolRuns } from './helpers/tools.js';

const pkg = resolve(import.meta.dirname, '..');
const bin = join(pkg, 'src', 'bin.ts');
const hasFfmpeg = onPath('ffmpeg');
const dir = tempDir('record');
const CREDS = ['--url', 'wss://example.invalid', '--api-key', 'key', '--api-secret', 'secret'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  events: Array<Record<string, unknown>>;
}

/** Runs `trackrec record …` in-process with a `connect` seam, an environment and a stop signal. */
async function record(
  argv: string[],
  options: {
    connect?: (o: ConnectOptions) => Promise<RoomRecorder>;
    env?: Record<string, string>;
    signal?: AbortSignal;
    cwd?: string;
    tty?: boolean;
  } = {},
): Promise<Run> {
  const stdout = capture();
  const stderr = capture(options.tty === true);
  const command = createRecordCommand({
    ...(options.connect === undefined ? {} : { connect: options.connect }),
    statusIntervalMs: 500,
  });
  const code = await main(
    ['record', ...argv],
    {
      stdout,
      stderr,
      env: options.env ?? {},
      cwd: options.cwd ?? dir,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    },
    [command],
  );
  const events = stdout.text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, stdout: stdout.text, stderr: stderr.text, events };
}

/** A `connect` that attaches to `room` and remembers what it was asked. */
function standInConnect(room: StandInRoom, seen: ConnectOptions[] = []) {
  return async (o: ConnectOptions): Promise<RoomRecorder> => {
    seen.push(o);
    return RoomRecorder.attach(room as unknown as Room, { defaults: o.defaults });
  };
}

/** The `recording_ended` JSON event, as far as the tests read it. */
interface EndedEvent {
  status: string;
  file: { location: string };
  segments: { playlistLocation: string };
  durationMs: number;
  video: { framesEncoded: number };
  checks: Array<{ kind: string; ok: boolean }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('trackrec record: arguments', () => {
  it('takes credentials from flags or LIVEKIT_* variables, flags first', async () => {
    const seen: ConnectOptions[] = [];
    const room = new StandInRoom('env-room');
    const env = { LIVEKIT_URL: 'wss://env.example', LIVEKIT_API_KEY: 'ek', LIVEKIT_API_SECRET: 'es' };
    // Joins, then is stopped at once.
    const connectThenStop = async (o: ConnectOptions): Promise<RoomRecorder> => {
      const recorder = await standInConnect(room, seen)(o);
      setTimeout(() => stop.abort(), 20);
      return recorder;
    };
    let stop = new AbortController();
    const a = await record(['--room', 'env-room', '--all'], {
      env,
      connect: connectThenStop,
      signal: stop.signal,
    });
    expect(a.code).toBe(EXIT.ok);
    stop = new AbortController();
    const b = await record(
      ['--room', 'env-room', '--all', '--url', 'wss://flag.example', '--connect-timeout', '2.5'],
      { env, connect: connectThenStop, signal: stop.signal },
    );
    expect(b.code).toBe(EXIT.ok);
    expect(seen.map((o) => [o.url, o.apiKey, o.apiSecret, o.roomName])).toEqual([
      ['wss://env.example', 'ek', 'es', 'env-room'],
      ['wss://flag.example', 'ek', 'es', 'env-room'],
    ]);
    expect(seen[0]!.connectTimeoutMs).toBe(10_000);
    expect(seen[1]!.connectTimeoutMs).toBe(2500);
    expect(seen[0]!.defaults.outputDir).toBe(join(dir, 'recordings'));
    expect(seen[0]!.defaults.file).toEqual({ filepath: '{room_name}-{publisher_identity}-{time}' });
    expect(seen[0]!.defaults.segments).toBeUndefined();
  });

  it('refuses incomplete or contradictory usage with exit 2, naming the flag and the variable', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--room', 'r', '--all'], {}, /missing --url \(or LIVEKIT_URL/],
      [['--room', 'r', '--all', '--url', 'u'], {}, /missing --api-key \(or LIVEKIT_API_KEY/],
      [
        ['--room', 'r', '--all', '--url', 'u', '--api-key', 'k'],
        {},
        /missing --api-secret \(or LIVEKIT_API_SECRET/,
      ],
      [[...CREDS, '--all'], {}, /missing --room/],
      [[...CREDS, '--room', 'r'], {}, /exactly one of --identity <id> and --all/],
      [[...CREDS, '--room', 'r', '--all', '--identity', 'a'], {}, /exactly one of/],
      [[...CREDS, '--room', 'r', '--all', '--audio', 'mp3'], {}, /--audio must be aac or opus/],
      [
        [...CREDS, '--room', 'r', '--all', '--connect-timeout', 'soon'],
        {},
        /--connect-timeout must be a number/,
      ],
      [[...CREDS, '--room', 'r', '--all', '--bogus'], {}, /Unknown option '--bogus'/],
      [
        [...CREDS, '--room', 'r', '--all', '--out', 'rec/{room_name}/'],
        {},
        /--out must end with a file name template/,
      ],
    ];
    for (const [argv, env, message] of cases) {
      const run = await record(argv, {
        env,
        connect: () => Promise.reject(new Error('must not connect')),
      });
      expect(run.code, argv.join(' ')).toBe(EXIT.usage);
      expect(run.stderr).toMatch(message);
    }
  });

  it('splits --out into the output directory and the file template', () => {
    expect(splitOutTemplate('recordings/{room_name}-{publisher_identity}-{time}', '/w')).toEqual({
      outputDir: '/w/recordings',
      filepath: '{room_name}-{publisher_identity}-{time}',
    });
    expect(splitOutTemplate('/srv/rec/{room_name}/{publisher_identity}.ts', '/w')).toEqual({
      outputDir: '/srv/rec',
      filepath: '{room_name}/{publisher_identity}',
    });
    expect(splitOutTemplate('{utc}', '/w')).toEqual({ outputDir: '/w', filepath: '{utc}' });
    expect(splitOutTemplate('out', '/w')).toEqual({
      outputDir: '/w/out',
      filepath: '{room_name}-{publisher_identity}-{time}',
    });
  });
});

describe('trackrec record: connecting', () => {
  it('SIGTERM while joining a server that never answers: exits 130 at once (real executable)', async () => {
    const { port, close } = await silentServer();
    try {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          bin,
          'record',
          '--room',
          'r',
          '--all',
          ...['--out', `${dir}/silent/{publisher_identity}`],
        ],
        {
          cwd: pkg,
          env: {
            ...process.env,
            LIVEKIT_URL: `ws://127.0.0.1:${port}`,
            LIVEKIT_API_KEY: 'k',
            LIVEKIT_API_SECRET: 's',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (c: string) => {
        stderr += c;
      });
      while (!stderr.includes('joining room r')) await sleep(50);
      await sleep(500);
      const t0 = performance.now();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(code).toBe(130);
      expect(stderr).toContain('trackrec record: stopped while joining the room');
    } finally {
      await close();
    }
  });

  it('fails fast with a clear error and exit 3 when nothing listens (real executable)', async () => {
    const port = await closedPort();
    const url = `ws://127.0.0.1:${port}`;
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        bin,
        'record',
        '--room',
        'r',
        '--identity',
        'alice',
        '--json',
        '--out',
        `${dir}/refused/{publisher_identity}`,
      ],
      {
        cwd: pkg,
        encoding: 'utf8',
        env: { ...process.env, LIVEKIT_URL: url, LIVEKIT_API_KEY: 'k', LIVEKIT_API_SECRET: 's' },
        timeout: 20_000,
      },
    );
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`trackrec record: could not join room r at ${url}`);
    expect(r.stderr).toMatch(/refused/i);
    // --json: stdout holds only JSON lines (rtc-node's own logs kept out of it).
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'error', code: 'CONNECT_FAILED' });
  });
});

describe('trackrec record: recording (stand-in room, real rtc-node tracks)', () => {
  it('--identity --hls --json: SIGINT stops cleanly, .ts and HLS finished and decodable, exit 0', async () => {
    const room = new StandInRoom('studio');
    const alice = new SyntheticPublisher();
    alice.start();
    room.join('alice', alice);
    const stop = new AbortController();
    const out = join(dir, 'sigint');
    const running = record(
      [
        ...CREDS,
        '--room',
        'studio',
        '--identity',
        'alice',
        '--hls',
        '--json',
        '--out',
        `${out}/{room_name}-{publisher_identity}`,
      ],
      {
        connect: standInConnect(room),
        signal: stop.signal,
      },
    );
    await sleep(2500);
    stop.abort();
    const run = await running;
    await alice.close();
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(EXIT.ok);
    const types = run.events.map((e) => e.type);
    expect(types[0]).toBe('connected');
    expect(types).toContain('recording_started');
    expect(types).toContain('status');
    // Periodic status lines may still come while encoders flush after 'stopping'.
    expect(types.filter((t) => t !== 'status').slice(-3)).toEqual(['stopping', 'recording_ended', 'summary']);
    expect(types.at(-1)).toBe('summary');
    expect(run.events.find((e) => e.type === 'stopping')).toMatchObject({ reason: 'signal' });
    const ended = run.events.find((e) => e.type === 'recording_ended') as unknown as EndedEvent;
    expect(ended.status).toBe('COMPLETE');
    expect(ended.file.location).toBe(join(out, 'studio-alice.ts'));
    expect(ended.segments.playlistLocation).toBe(join(out, 'studio-alice', 'index.m3u8'));
    expect(ended.durationMs).toBeGreaterThan(1500);
    expect(ended.video.framesEncoded).toBeGreaterThan(40);
    expect(ended.checks.map((c) => [c.kind, c.ok])).toEqual([
      ['file', true],
      ['playlist', true],
    ]);
    expect(run.events.at(-1)).toMatchObject({ type: 'summary', ok: true, exitCode: 0, recordings: 1 });
    expect(playlistEnded(ended.segments.playlistLocation)).toBe(true);
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg');
      expectFfmpegDecodes(ended.file.location);
      expectFfmpegDecodes(ended.segments.playlistLocation);
    }
  });

  it('--identity ends by itself when the participant leaves; plain status lines when not a terminal', async () => {
    const room = new StandInRoom('talk');
    const bob = new SyntheticPublisher();
    bob.start();
    room.join('bob', bob);
    const out = join(dir, 'leave');
    const running = record(
      [...CREDS, '--room', 'talk', '--identity', 'bob', '--out', `${out}/{publisher_identity}`],
      {
        connect: standInConnect(room),
      },
    );
    await sleep(1800);
    room.leave('bob');
    const run = await running;
    await bob.close();
    expect(run.code).toBe(EXIT.ok);
    expect(run.stderr).toContain('stopping (recording ended)');
    expect(run.stderr).toMatch(/talk \(1 rec\) {2}rec 0:0\d/); // a plain status line
    expect(run.stderr).not.toContain('\x1b[');
    expect(run.stdout).toMatch(/bob\.ts: COMPLETE/);
    expect(run.stdout).toMatch(/check\s+file ok \(h264 \+ aac/);
    expect(run.stdout).toContain('result: ok');
    expect(readdirSync(out)).toEqual(['bob.ts']);
  });

  it('on a terminal the status line is rewritten in place and messages erase it first', async () => {
    const room = new StandInRoom('tty');
    const cat = new SyntheticPublisher(160, 120);
    cat.start();
    room.join('cat', cat);
    const running = record(
      [...CREDS, '--room', 'tty', '--identity', 'cat', '--out', `${join(dir, 'tty')}/{publisher_identity}`],
      {
        connect: standInConnect(room),
        tty: true,
      },
    );
    await sleep(2300);
    room.leave('cat');
    const run = await running;
    await cat.close();
    expect(run.code).toBe(EXIT.ok);
    // At least one in-place refresh (CR, erase line, no newline) before the final line.
    const ERASE = '\r\x1b[2K';
    const refreshes = run.stderr.split(ERASE).filter((part) => /^tty \(1 rec\) {2}rec 0:0\d/.test(part));
    expect(refreshes.length).toBeGreaterThanOrEqual(2);
    expect(refreshes.slice(0, -1).every((part) => !part.includes('\n'))).toBe(true);
    expect(run.stderr).toContain('\r\x1b[2Kstopping (recording ended)…\n');
  });

  it('--all records everyone present and joining, each in a file, until the room ends', async () => {
    const room = new StandInRoom('party');
    const a = new SyntheticPublisher();
    const b = new SyntheticPublisher(160, 120);
    a.start();
    b.start();
    room.join('ann', a);
    const out = join(dir, 'all');
    const running = record(
      [...CREDS, '--room', 'party', '--all', '--json', '--out', `${out}/{publisher_identity}`],
      {
        connect: standInConnect(room),
      },
    );
    await sleep(800);
    room.join('ben', b);
    await sleep(1800);
    room.emit('disconnected');
    const run = await running;
    await Promise.all([a.close(), b.close()]);
    expect(run.code).toBe(EXIT.ok);
    expect(run.events.find((e) => e.type === 'stopping')).toMatchObject({ reason: 'room_disconnected' });
    const ended = run.events.filter((e) => e.type === 'recording_ended') as unknown as EndedEvent[];
    expect(ended.map((e) => e.file.location).sort()).toEqual([join(out, 'ann.ts'), join(out, 'ben.ts')]);
    for (const e of ended) {
      expect(e.status).toBe('COMPLETE');
      expect(e.checks[0]?.ok).toBe(true);
    }
    if (toolRuns(hasFfmpeg)) {
      needTool(hasFfmpeg, 'ffmpeg');
      for (const e of ended) expectFfmpegDecodes(e.file.location);
    }
  });
});
