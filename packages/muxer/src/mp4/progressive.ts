/**
 * A progressive MP4 (ISO/IEC 14496-12: `ftyp`, `moov` before a single `mdat`) from the fragments of a
 * fragmented recording, without re-encoding: the `mdat` payload is the fragments' `mdat` payloads one
 * after the other, and the `moov` sample tables come from the muxer's compact table
 * ({@link Fmp4Muxer.sampleTable}), each fragment's run of a track becoming one chunk. Pure functions:
 * the fragmented file is only read, so it stays valid whatever happens while the new file is written.
 */

import { BoxWriter } from './box-writer.js';
import { writeFtyp, writeProgressiveMoov } from './moov.js';
import type { Fmp4SampleTable } from './types.js';

/**
 * The head of the progressive file: `ftyp`, `moov` and the `mdat` box header. Write it, then the
 * payload of every fragment in order (`table.fragmentPayloadOffsets[i]`, `table.fragmentPayloadSizes[i]`
 * in the fragmented output counted from its init segment), and the file is complete.
 */
export function buildProgressiveHeader(table: Fmp4SampleTable): Uint8Array {
  const brands: string[] = [];
  for (const t of table.tracks) {
    const entry = String.fromCharCode(...t.sampleEntry.subarray(4, 8));
    if (entry === 'avc1' && !brands.includes('avc1')) brands.push('avc1');
    if (entry === 'Opus' && !brands.includes('Opus')) brands.push('Opus');
  }
  const large = table.mdatPayloadSize + 8 > 0xffffffff;
  const mdatHeader = large ? 16 : 8;
  const w = new BoxWriter(4096);
  writeFtyp(w, false, brands);
  const ftypSize = w.pos;
  // The chunk offsets depend on the moov's size, which depends on whether they need 64 bits: size it
  // with the final base estimate, then write it again with the exact base.
  writeProgressiveMoov(w, table.tracks, table.samples, ftypSize + mdatHeader);
  let moovSize = w.pos - ftypSize;
  for (let pass = 0; pass < 2; pass++) {
    w.pos = ftypSize;
    writeProgressiveMoov(w, table.tracks, table.samples, ftypSize + moovSize + mdatHeader);
    const size = w.pos - ftypSize;
    if (size === moovSize) break;
    moovSize = size;
  }
  if (large) {
    w.u32(1); // size = 1: largesize follows
    w.fourcc('mdat'); // type
    w.u64(table.mdatPayloadSize + 16); // largesize
  } else {
    w.u32(table.mdatPayloadSize + 8); // size
    w.fourcc('mdat'); // type
  }
  return w.toBytes();
}

/**
 * A whole progressive file in memory from the fragmented bytes (starting at the init segment) and
 * the muxer's table. For tests and short recordings; a writer streams the same pieces to disk.
 */
export function progressiveFromFragmented(table: Fmp4SampleTable, fragmented: Uint8Array): Uint8Array {
  const header = buildProgressiveHeader(table);
  const out = new Uint8Array(header.length + table.mdatPayloadSize);
  out.set(header, 0);
  let o = header.length;
  for (let i = 0; i < table.fragmentCount; i++) {
    const start = table.fragmentPayloadOffsets[i]!;
    const size = table.fragmentPayloadSizes[i]!;
    if (start + size > fragmented.length) {
      throw new RangeError(`fragmented input ends before fragment ${i}'s mdat payload`);
    }
    out.set(fragmented.subarray(start, start + size), o);
    o += size;
  }
  return out;
}
