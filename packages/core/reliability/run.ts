/**
 * Reliability suite of trackrec (issue 7): crash, disk, names, malformed input, overload, churn, long
 * media and soak cases against the real pipeline (rtc-node sources or synthetic frames → x264/AAC →
 * MPEG-TS muxer → node-writer), judged by FFmpeg 8.1 in-process (node-av) and the muxer's checker.
 *
 *   pnpm test:reliability            # CI portion (a few minutes)
 *   pnpm test:reliability -- --full  # the full sweep (N = 20 kills, 1,000 names, 60 min 720p30 soak)
 *   … --only kill9,names             # some cases
 *
 * Prints a table of figures and, as its last line, one JSON object of them. Exit code 1 when a bound fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AV_LOG_ERROR, Log } from 'node-av';
import { churn } from './cases/churn.js';
import { diskFull } from './cases/disk.js';
import { killSweep } from './cases/kill.js';
import { longMedia } from './cases/long-media.js';
import { malformed } from './cases/malformed.js';
import { hostileNames } from './cases/names.js';
import { overload } from './cases/overload.js';
import { soak } from './cases/soak.js';
import { type CaseResult, type SuiteOptions, watchCrashes } from './lib.js';

const args = process.argv.slice(2);
const full = args.includes('--full');
const onlyArg = args.indexOf('--only');
const only = onlyArg >= 0 ? new Set((args[onlyArg + 1] ?? '').split(',')) : null;
const keep = args.includes('--keep');
const seedArg = args.indexOf('--seed');
const seed = seedArg >= 0 ? Number(args[seedArg + 1]) : 7;

const cases: [string, (o: SuiteOptions) => Promise<CaseResult>][] = [
  ['kill9', killSweep],
  ['disk', diskFull],
  ['names', hostileNames],
  ['malformed', malformed],
  ['overload', overload],
  ['churn', churn],
  ['long', longMedia],
  ['soak', soak],
];

watchCrashes();
// FFmpeg's info lines (x264 statistics on every encoder close) would bury the table.
Log.setLevel(AV_LOG_ERROR);
const work = mkdtempSync(join(tmpdir(), 'trackrec-reliability-'));
const results: CaseResult[] = [];
const t0 = performance.now();
for (const [id, run] of cases) {
  if (only && !only.has(id)) continue;
  const started = performance.now();
  let result: CaseResult;
  try {
    result = await run({ full, seed, work: join(work, id) });
  } catch (error) {
    result = {
      id,
      name: id,
      figures: {},
      bound: '',
      pass: false,
      notes: [`case threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`],
    };
  }
  result.figures.seconds = Math.round((performance.now() - started) / 100) / 10;
  results.push(result);
  console.log(`${result.pass ? 'PASS' : 'FAIL'} ${result.name} (${result.figures.seconds} s)`);
  for (const note of result.notes) console.log(`     note: ${note}`);
}
if (!keep) rmSync(work, { recursive: true, force: true });

// The table: one row per figure.
const rows: [string, string, string][] = [];
for (const r of results) {
  rows.push([`${r.pass ? 'PASS' : 'FAIL'} ${r.name}`, '', r.bound]);
  for (const [k, v] of Object.entries(r.figures)) rows.push([`  ${k}`, String(v), '']);
}
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log('');
console.log(
  `trackrec reliability suite (${full ? 'full' : 'CI portion'}, seed ${seed}, ${Math.round((performance.now() - t0) / 1000)} s)`,
);
console.log(`${'case / figure'.padEnd(w0)} | ${'value'.padEnd(w1)} | bound`);
console.log(`${'-'.repeat(w0)}-|-${'-'.repeat(w1)}-|------`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c}`);
const failed = results.filter((r) => !r.pass).map((r) => r.id);
const json: Record<string, unknown> = {
  suite: full ? 'full' : 'ci',
  seed,
  pass: failed.length === 0,
  failed,
};
for (const r of results) json[r.id] = { pass: r.pass, ...r.figures };
console.log(JSON.stringify(json));
process.exitCode = failed.length === 0 ? 0 : 1;
// rtc-node's native side keeps the process alive until disposed.
const { dispose } = await import('@livekit/rtc-node');
await dispose();
