/** The `trackrec` executable as scripts see it: a real process, exit codes, JSON on stdout, Ctrl-C. */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { get } from './helpers/http.js';
import { writeTsRecording } from './helpers/media.js';
import { tempDir } from './helpers/tmp.js';

const pkg = resolve(import.meta.dirname, '..');
const bin = join(pkg, 'src', 'bin.ts');
const dir = tempDir('process');
const good = join(dir, 'good.ts');

function trackrec(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', bin, ...args], { cwd: pkg, encoding: 'utf8' });
}

beforeAll(async () => {
  await writeTsRecording(good, { durationS: 1, width: 320, height: 240 });
});

describe('trackrec executable', () => {
  it('exits 0 on a clean file, 1 on violations, 2 on bad usage', () => {
    const ok = trackrec(['probe', good, '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.trim())).toMatchObject({ type: 'file', ok: true, violationTotal: 0 });

    const broken = join(dir, 'broken.ts');
    const bytes = readFileSync(good);
    writeFileSync(broken, bytes.subarray(0, bytes.length - 50));
    const bad = trackrec(['probe', broken]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('TRAILING_PARTIAL_PACKET');

    const usage = trackrec(['probe']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('trackrec probe: missing file or playlist');
    expect(trackrec(['--version']).stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('serves until Ctrl-C, then exits 0', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', bin, 'serve', dir, '--port', '0', '--json'],
      { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.setEncoding('utf8');
    while (!out.includes('\n')) {
      const [chunk] = (await once(child.stdout!, 'data')) as [string];
      out += chunk;
    }
    const line = JSON.parse(out.split('\n')[0]!) as { type: string; url: string; root: string };
    expect(line.type).toBe('serve');
    expect(line.root).toBe(dir);
    const port = Number(new URL(line.url).port);
    const listing = await get(port, '/api/recordings');
    const { recordings } = JSON.parse(listing.body.toString()) as {
      recordings: Array<{ path: string; kind: string }>;
    };
    expect(recordings).toContainEqual(expect.objectContaining({ path: 'good.ts', kind: 'ts' }));
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
