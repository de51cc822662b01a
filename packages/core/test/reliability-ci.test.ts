// The quick cases of the reliability suite (packages/core/reliability, `pnpm test:reliability`) under
// vitest: kill -9 sweep (N = 5), disk full, hostile names (200), malformed input, 2^32 / 2^33 timestamps.
// Overload, churn and soak measure memory and time and run only in the suite itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diskFull } from '../reliability/cases/disk.js';
import { killSweep } from '../reliability/cases/kill.js';
import { longMedia } from '../reliability/cases/long-media.js';
import { malformed } from '../reliability/cases/malformed.js';
import { hostileNames } from '../reliability/cases/names.js';
import type { CaseResult, SuiteOptions } from '../reliability/lib.js';
import { expandTemplate, sanitizeComponent } from '../src/names.js';

const work = mkdtempSync(join(tmpdir(), 'trackrec-reliability-ci-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const options = (id: string): SuiteOptions => ({ full: false, seed: 7, work: join(work, id) });

/** A failed bound shows its figures and notes. */
function expectPass(r: CaseResult): void {
  expect({ pass: r.pass, notes: r.notes, figures: r.figures }).toMatchObject({ pass: true, notes: [] });
}

describe('reliability (CI portion)', () => {
  it('kill -9: every crashed TS + HLS recording plays, loses < 1 s at the tail, and repairs whole', async () => {
    const r = await killSweep(options('kill9'));
    expectPass(r);
    expect(r.figures.survivedCount).toBe(5);
    expect(r.figures.maxTailLostMs as number).toBeLessThanOrEqual(1000);
    expect(r.figures.partialSegmentsRecovered).toBe('5/5');
  });

  it('disk full: FAILED with a DISK error, whole packets on disk; the next recording completes', async () => {
    const r = await diskFull(options('disk'));
    expectPass(r);
    expect(r.figures.devFull).toBe('FAILED DISK ENOSPC');
    expect(r.figures.healthyAfter).toMatch(/^COMPLETE, 90 video frames decoded$/);
  });

  it('hostile names: nothing outside the output directory, nothing thrown', async () => {
    const r = await hostileNames(options('names'));
    expectPass(r);
    expect(r.figures.filesOutsideOutputDir).toBe(0);
    expect(r.figures.threw).toBe(0);
    expect(r.figures.started).toBe(200);
    expect(r.figures.windowsDeviceNames).toBe(0);
  });

  it('names: Windows device names from remote users never become a file name', () => {
    for (const name of ['CON', 'nul', 'NUL.txt', 'Aux', 'com1', 'LPT9.ts', 'ＣＯＮ', 'prn.']) {
      expect(sanitizeComponent(name)).toMatch(/^_/);
      expect(sanitizeComponent(name)).not.toMatch(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i);
    }
    expect(expandTemplate('{publisher_identity}.ts', { publisherIdentity: 'nul' })).toBe('_nul.ts');
    // Names that merely start like a device are left alone.
    expect(sanitizeComponent('CONSOLE')).toBe('CONSOLE');
    expect(sanitizeComponent('nully')).toBe('nully');
  });

  it('malformed input: bad frames dropped and counted, outputs valid', async () => {
    const r = await malformed(options('malformed'));
    expectPass(r);
    expect(r.figures.videoFramesDropped as number).toBeGreaterThanOrEqual(7);
    expect(r.figures.checkerViolations).toBe(0);
    expect(r.figures.decodeErrors).toBe(0);
  });

  it('long media: timestamps across 2^32 and 2^33 ticks decode monotonic and complete', async () => {
    const r = await longMedia(options('long'));
    expectPass(r);
    expect(r.figures['2^33VideoFramesDecoded']).toBe('900/900');
    expect(r.figures['2^33FirstPtsH'] as number).toBeLessThan(0);
    expect(r.figures['2^33LastPtsH'] as number).toBeGreaterThan(0);
  });
});
