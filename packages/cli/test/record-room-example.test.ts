/**
 * examples/record-room.ts as documented, without a LiveKit server: usage without credentials (exit 2)
 * and a closed port (exit 3, the core's CONNECT_FAILED message, fast). Recording through the same
 * `RoomRecorder` calls is covered by record.test.ts on a stand-in room.
 */

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const repo = resolve(import.meta.dirname, '../../..');
const dir = tempDir('record-room');

function example(args: string[], env: Record<string, string>) {
  const clean = { ...process.env };
  delete clean.LIVEKIT_URL;
  delete clean.LIVEKIT_API_KEY;
  delete clean.LIVEKIT_API_SECRET;
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/record-room.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...clean, ...env },
    timeout: 30_000,
  });
}

describe('examples/record-room.ts', () => {
  it('prints usage and exits 2 without credentials', () => {
    const r = example(['room', 'alice', dir], {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: LIVEKIT_URL=');
  });

  it('exits 3 with CONNECT_FAILED naming the URL when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const t0 = performance.now();
    const r = example(['room', 'alice', join(dir, 'out')], {
      LIVEKIT_URL: `ws://127.0.0.1:${port}`,
      LIVEKIT_API_KEY: 'key',
      LIVEKIT_API_SECRET: 'secret',
    });
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`CONNECT_FAILED: could not join room room at ws://127.0.0.1:${port}`);
  });
});
