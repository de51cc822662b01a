import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { inspectFile, removeDir, tempDir } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('README example', () => {
  it('runs as documented and writes a clean recording', () => {
    const out = tempDir();
    dirs.push(out);
    const script = fileURLToPath(new URL('../examples/record-local-track.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, out], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    const json = r.stdout.slice(r.stdout.indexOf('\n{') + 1);
    const result = JSON.parse(json);
    expect(result.status).toBe('COMPLETE');
    expect(result.file.location.startsWith(out)).toBe(true);
    expect(result.file.duration).toBeGreaterThan(2500);
    expect(result.segments.segmentCount).toBeGreaterThanOrEqual(2);
    inspectFile(result.file.location);
  });
});
