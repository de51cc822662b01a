/**
 * Child process of kill9.test.ts: records one deterministic A/V stream through a FileSink and a SegmentSink
 * (both with fsync) as fast as it can, until the parent kills it with SIGKILL.
 * Usage: node --import tsx packages/node-writer/test/child/writer-child.ts <outDir> <seed>
 */

import { join } from 'node:path';
import { FileSink, SegmentSink } from '../../src/index.js';
import { makeStream } from '../helpers/ts.js';

const [outDir, seedText] = process.argv.slice(2);
if (outDir === undefined || seedText === undefined) throw new Error('usage: writer-child.ts <outDir> <seed>');

const file = new FileSink(join(outDir, 'file.ts'), { fsync: { intervalMs: 20 } });
const hls = new SegmentSink({
  dir: join(outDir, 'hls'),
  prefix: 'seg',
  livePlaylistName: 'live.m3u8',
  liveSegmentCount: 3,
  targetDuration: 0.5,
  fsync: 'always',
});
process.stdout.write('ready\n');
for (const { bytes, info } of makeStream({ seconds: 3600, gop: 15, seed: Number(seedText) })) {
  file.write(bytes, info);
  hls.write(bytes, info);
}
