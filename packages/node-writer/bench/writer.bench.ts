/**
 * Sustained write throughput of FileSink per fsync policy, against its peers writing the same bytes in the
 * same process: one `fs.writeFileSync` of the whole buffer, and `fs.createWriteStream` fed chunk by chunk
 * (honouring backpressure). 1316-byte chunks (7 TS packets, a typical PES) and 64 KiB chunks, to a temp dir
 * on the real disk. Prints a table, then one JSON line of MB/s and ratios.
 *
 * Run: pnpm bench:writer   (node --expose-gc --import tsx packages/node-writer/bench/writer.bench.ts)
 */

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileSink, type FsyncPolicy } from '../src/index.js';

const MB = 1e6;
const SIZES = [1316, 65536] as const;
/** Bytes per run: large enough for steady state, small enough for the whole bench to stay near a minute. */
const BYTES = { bulk: 256 * 1024 * 1024, always: { 1316: 1316 * 3000, 65536: 65536 * 400 } };
const RUNS = 5;

const dir = mkdtempSync(join(tmpdir(), 'trackrec-writer-bench-'));
const gc = (globalThis as { gc?: () => void }).gc;

/** Flushes other runs' dirty pages so they do not slow this one (not timed). */
function settle(): void {
  execFileSync('sync');
  gc?.();
}

function chunkOf(size: number): Uint8Array {
  const c = new Uint8Array(size);
  for (let i = 0; i < size; i++) c[i] = (i * 2654435761) >>> 24;
  return c;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  chunk: number;
  writer: string;
  bytes: number;
  seconds: number;
  mbps: number;
  syncs: number;
}

function runFileSink(size: number, policy: FsyncPolicy, total: number): { seconds: number; syncs: number } {
  const path = join(dir, 'sink.ts');
  const chunk = chunkOf(size);
  const n = Math.floor(total / size);
  settle();
  const t0 = performance.now();
  const sink = new FileSink(path, { fsync: policy });
  for (let i = 0; i < n; i++) sink.write(chunk);
  sink.close();
  const seconds = (performance.now() - t0) / 1000;
  if (statSync(path).size !== n * size) throw new Error('short file');
  unlinkSync(path);
  return { seconds, syncs: sink.stats.syncCount };
}

function runWriteFileSync(size: number, total: number): number {
  const n = Math.floor(total / size);
  const all = new Uint8Array(n * size);
  const chunk = chunkOf(size);
  for (let i = 0; i < n; i++) all.set(chunk, i * size);
  const path = join(dir, 'whole.ts');
  settle();
  const t0 = performance.now();
  writeFileSync(path, all);
  const seconds = (performance.now() - t0) / 1000;
  unlinkSync(path);
  return seconds;
}

async function runWriteStream(size: number, total: number): Promise<number> {
  const n = Math.floor(total / size);
  const chunk = chunkOf(size);
  const path = join(dir, 'stream.ts');
  settle();
  const t0 = performance.now();
  const ws = createWriteStream(path);
  for (let i = 0; i < n; i++) {
    if (!ws.write(chunk)) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'close');
  const seconds = (performance.now() - t0) / 1000;
  if (statSync(path).size !== n * size) throw new Error('short stream file');
  unlinkSync(path);
  return seconds;
}

const POLICIES: [string, FsyncPolicy][] = [
  ['none', 'none'],
  ['interval1000', { intervalMs: 1000 }],
  ['interval100', { intervalMs: 100 }],
  ['always', 'always'],
];

async function main(): Promise<void> {
  const rows: Row[] = [];
  const figures: Record<string, number> = {};
  const started = performance.now();
  for (const size of SIZES) {
    const bulk = Math.floor(BYTES.bulk / size) * size;
    // Runs interleave the writers, so drift of the (virtual) disk hits all of them alike.
    const secs = new Map<string, number[]>();
    const syncs = new Map<string, number>();
    const add = (name: string, s: number) => secs.set(name, [...(secs.get(name) ?? []), s]);
    for (let r = 0; r < RUNS; r++) {
      add('writeFileSync', runWriteFileSync(size, bulk));
      add('writeStream', await runWriteStream(size, bulk));
      for (const [name, policy] of POLICIES) {
        const res = runFileSink(size, policy, name === 'always' ? BYTES.always[size] : bulk);
        add(name, res.seconds);
        syncs.set(name, res.syncs);
      }
    }
    for (const name of ['writeFileSync', 'writeStream']) {
      const s = median(secs.get(name)!);
      rows.push({
        chunk: size,
        writer: `fs.${name}`,
        bytes: bulk,
        seconds: s,
        mbps: bulk / MB / s,
        syncs: 0,
      });
      figures[`chunk${size}_${name}_mbps`] = round(bulk / MB / s);
    }
    for (const [name] of POLICIES) {
      const total = name === 'always' ? BYTES.always[size] : bulk;
      const s = median(secs.get(name)!);
      const mbps = total / MB / s;
      rows.push({
        chunk: size,
        writer: `FileSink ${name}`,
        bytes: total,
        seconds: s,
        mbps,
        syncs: syncs.get(name)!,
      });
      figures[`chunk${size}_${name}_mbps`] = round(mbps);
      figures[`chunk${size}_${name}_vs_writeStream`] = round(
        mbps / figures[`chunk${size}_writeStream_mbps`]!,
      );
      figures[`chunk${size}_${name}_vs_writeFileSync`] = round(
        mbps / figures[`chunk${size}_writeFileSync_mbps`]!,
      );
    }
    figures[`chunk${size}_none_us_per_write`] = round(
      (size / (figures[`chunk${size}_none_mbps`]! * MB)) * 1e6,
    );
    figures[`chunk${size}_always_ms_per_write`] = round(
      (size / (figures[`chunk${size}_always_mbps`]! * MB)) * 1e3,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  figures.total_seconds = round((performance.now() - started) / 1000);

  const header = ['chunk B', 'writer', 'MB', 's (median)', 'MB/s', 'fsyncs'];
  const lines = rows.map((r) => [
    String(r.chunk),
    r.writer,
    (r.bytes / MB).toFixed(1),
    r.seconds.toFixed(3),
    r.mbps.toFixed(1),
    String(r.syncs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(
    `FileSink throughput, temp dir ${tmpdir()} (median of ${RUNS} interleaved runs; 'always' on fewer bytes)`,
  );
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log(JSON.stringify(figures));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

await main();
