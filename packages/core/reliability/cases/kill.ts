// Case 1: kill -9 sweep. Child processes record real rtc-node local tracks to TS + HLS and are killed
// with SIGKILL at random moments; the files are judged as the crash left them, then after `trackrec repair`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlaylist } from '../../test/helpers.js';
import { rng } from '../../test/rng.js';
import { type CaseResult, type DecodeResult, decode, decodedClean, type SuiteOptions } from '../lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, '..', 'child-record.ts');
const CLI = resolve(here, '../../../cli/dist/bin.js');

interface Run {
  killS: number;
  tsSpanS: number;
  tsClean: boolean;
  tsFramesRaw: number;
  tsFramesRepaired: number;
  repairedClean: boolean;
  listed: number;
  listedClean: number;
  repairedListed: number;
  repairedSegmentsClean: boolean;
  hlsRepairedSpanS: number;
  firstError: string;
}

async function killOnce(dir: string, killAfterMs: number): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const activeAt = await new Promise<number>((res, rej) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /ACTIVE (\d+)/.exec(out);
      if (m) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`child exited early (${code}): ${err}`)));
  });
  await new Promise((r) => setTimeout(r, Math.max(0, activeAt + killAfterMs - Date.now())));
  const exited = new Promise((r) => child.once('exit', r));
  const killedAt = Date.now();
  child.kill('SIGKILL');
  await exited;
  return (killedAt - activeAt) / 1000;
}

function firstProblem(r: DecodeResult): string {
  return (
    [...r.errors, ...r.logErrors][0] ?? (r.corruptPackets > 0 ? `${r.corruptPackets} corrupt packets` : '')
  );
}

async function judgePlaylist(dir: string): Promise<{ listed: number; clean: number; spanS: number }> {
  const path = join(dir, 'hls', 'seg.m3u8');
  if (!existsSync(path)) return { listed: 0, clean: 0, spanS: 0 };
  const { segments } = parsePlaylist(readFileSync(path, 'utf8'));
  let clean = 0;
  let spanS = 0;
  for (const s of segments) {
    const r = await decode(join(dir, 'hls', s.uri));
    if (decodedClean(r)) clean++;
    spanS += r.videoSpanS;
  }
  return { listed: segments.length, clean, spanS };
}

/** Runs the sweep: N kills (5 in CI, 20 with --full). */
export async function killSweep(o: SuiteOptions): Promise<CaseResult> {
  const n = o.full ? 20 : 5;
  const random = rng(o.seed);
  const runs: Run[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(o.work, `kill-${i}`);
    const killS = await killOnce(dir, 1000 + random() * (o.full ? 7000 : 3000));
    const ts = join(dir, 'rec.ts');
    const raw = await decode(ts);
    const before = await judgePlaylist(dir);
    const repTs = spawnSync(process.execPath, [CLI, 'repair', ts], { encoding: 'utf8' });
    const repHls = spawnSync(process.execPath, [CLI, 'repair', join(dir, 'hls')], { encoding: 'utf8' });
    const repaired = await decode(ts);
    const after = await judgePlaylist(dir);
    runs.push({
      killS,
      tsSpanS: raw.videoSpanS,
      tsClean: decodedClean(raw),
      tsFramesRaw: raw.videoFrames,
      tsFramesRepaired: repaired.videoFrames,
      repairedClean: repTs.status === 0 && decodedClean(repaired),
      listed: before.listed,
      listedClean: before.clean,
      repairedListed: after.listed,
      repairedSegmentsClean: repHls.status === 0 && after.clean === after.listed,
      hlsRepairedSpanS: after.spanS,
      firstError: firstProblem(raw) || (repTs.status !== 0 ? repTs.stdout + repTs.stderr : ''),
    });
  }
  const lostMs = runs.map((r) => Math.round((r.killS - r.tsSpanS) * 1000));
  const hlsLostMs = runs.map((r) => Math.round((r.killS - r.hlsRepairedSpanS) * 1000));
  // Survived: the crashed .ts decodes every frame the repaired one holds (nothing before the torn tail is
  // lost) and holds ≥ kill time − 1 s; every listed segment decodes cleanly; repair yields clean files
  // and lists the partial last segment.
  const ok = runs.map(
    (r, i) =>
      r.tsFramesRaw >= r.tsFramesRepaired &&
      (lostMs[i] as number) <= 1000 &&
      r.listed === r.listedClean &&
      r.repairedClean &&
      r.repairedSegmentsClean &&
      r.repairedListed > r.listed &&
      (hlsLostMs[i] as number) <= 1000,
  );
  const survived = ok.filter(Boolean).length;
  const notes = runs
    .map((r, i) =>
      r.tsClean ? '' : `kill ${i} at ${r.killS.toFixed(2)} s: unrepaired .ts reports "${r.firstError}"`,
    )
    .filter((s) => s !== '');
  runs.forEach((r, i) => {
    if (!ok[i]) notes.push(`kill ${i} did not survive: ${JSON.stringify(r)}`);
  });
  return {
    id: 'kill9',
    name: `kill -9 sweep (${n} TS + HLS recordings)`,
    figures: {
      survived: `${survived}/${n}`,
      survivedCount: survived,
      n,
      unrepairedTsCleanDecode: `${runs.filter((r) => r.tsClean).length}/${n}`,
      maxTailLostMs: Math.max(...lostMs),
      maxTailLostHlsRepairedMs: Math.max(...hlsLostMs),
      playlistsWithSegmentsBeforeRepair: `${runs.filter((r) => r.listed > 0).length}/${n}`,
      partialSegmentsRecovered: `${runs.filter((r) => r.repairedListed > r.listed).length}/${n}`,
      killTimesS: runs.map((r) => r.killS.toFixed(2)).join(' '),
    },
    bound: 'survived = N; tail lost ≤ 1000 ms; listed segments decode; repair recovers the partial segment',
    pass: survived === n,
    notes,
  };
}
