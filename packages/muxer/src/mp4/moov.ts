/**
 * `ftyp` and `moov` (ISO/IEC 14496-12 §4.3, §8.2–§8.7, §8.8.1–§8.8.3): the init segment of a fragmented
 * file (empty sample tables and `mvex`/`trex`, §8.8), and the movie box of a progressive file whose
 * sample tables (`stts` §8.6.1.2, `ctts` §8.6.1.3, `stss` §8.6.2, `stsz` §8.7.3.2, `stsc` §8.7.4,
 * `stco`/`co64` §8.7.5, `elst` §8.6.6) are rebuilt from what the fragments held.
 */

import type { BoxWriter } from './box-writer.js';

/** Movie timescale (mvhd, tkhd, elst): milliseconds. */
export const MOVIE_TIMESCALE = 1000;

/** default_sample_flags of a video sample that is not a sync sample (ISO/IEC 14496-12 §8.8.3.1). */
export const FLAGS_NON_SYNC = 0x01010000; // sample_depends_on 1, sample_is_non_sync_sample 1
/** sample_flags of a sync sample: depends on no other sample. */
export const FLAGS_SYNC = 0x02000000; // sample_depends_on 2

/** What the `trak` of one track needs besides its samples. */
export interface Mp4TrackDescription {
  /** track_ID (1-based). */
  trackId: number;
  /** handler_type. */
  handler: 'vide' | 'soun';
  /** Media timescale (mdhd): 90 000 for video, the sample rate for audio. */
  timescale: number;
  /** Display size in pixels (video), 0 for audio. */
  width: number;
  height: number;
  /** The complete sample entry box (`avc1`, `mp4a` or `Opus`). */
  sampleEntry: Uint8Array;
}

/** The sample table of one track, in the compact form the muxer keeps (one chunk per fragment). */
export interface Mp4TrackSamples {
  /** Number of samples. */
  sampleCount: number;
  /** Per sample: size in bytes, duration and composition offset in media timescale units, sync flag. */
  sizes: Uint32Array;
  durations: Uint32Array;
  compositionOffsets: Int32Array;
  sync: Uint8Array;
  /** Number of chunks (runs of contiguous samples, one per fragment that held samples of the track). */
  chunkCount: number;
  /** Per chunk: index of its first sample, its offset in the concatenated mdat payloads. */
  chunkFirstSample: Uint32Array;
  chunkOffsets: Float64Array;
  /** Decode time of the first sample of the first chunk (media timescale units). */
  firstDecodeTime: number;
}

function writeMatrix(w: BoxWriter): void {
  // matrix: unity { 0x00010000,0,0, 0,0x00010000,0, 0,0,0x40000000 }
  for (const v of [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000]) w.u32(v);
}

/** `ftyp`. Fragmented files name iso6 (mvex, tfdt); both name isom, iso2 and mp41 for wide reach. */
export function writeFtyp(w: BoxWriter, fragmented: boolean, brands: readonly string[]): void {
  w.box('ftyp');
  w.fourcc(fragmented ? 'iso6' : 'isom'); // major_brand
  w.u32(0x200); // minor_version
  for (const b of ['isom', 'iso2', ...(fragmented ? ['iso6'] : []), 'mp41', ...brands]) w.fourcc(b); // compatible_brands
  w.end();
}

function writeMvhd(w: BoxWriter, durationMs: number, nextTrackId: number): void {
  w.fullBox('mvhd', 1, 0);
  w.u64(0); // creation_time
  w.u64(0); // modification_time
  w.u32(MOVIE_TIMESCALE); // timescale
  w.u64(durationMs); // duration
  w.u32(0x00010000); // rate 1.0
  w.u16(0x0100); // volume 1.0
  w.zeros(10); // reserved
  writeMatrix(w);
  w.zeros(24); // pre_defined[6]
  w.u32(nextTrackId); // next_track_ID
  w.end();
}

function writeTkhd(w: BoxWriter, t: Mp4TrackDescription, durationMs: number): void {
  w.fullBox('tkhd', 1, 0x000003); // flags: track_enabled | track_in_movie
  w.u64(0); // creation_time
  w.u64(0); // modification_time
  w.u32(t.trackId); // track_ID
  w.u32(0); // reserved
  w.u64(durationMs); // duration
  w.zeros(8); // reserved[2]
  w.u16(0); // layer
  w.u16(t.handler === 'soun' ? 1 : 0); // alternate_group
  w.u16(t.handler === 'soun' ? 0x0100 : 0); // volume
  w.u16(0); // reserved
  writeMatrix(w);
  w.u32(t.width * 0x10000); // width, 16.16
  w.u32(t.height * 0x10000); // height, 16.16
  w.end();
}

/** Writes a `trak`. `samples` null: the empty tables of a fragmented file. `chunkBase`: offset of the mdat payload. */
function writeTrak(
  w: BoxWriter,
  t: Mp4TrackDescription,
  samples: Mp4TrackSamples | null,
  chunkBase: number,
): void {
  let mediaDuration = 0;
  if (samples) for (let i = 0; i < samples.sampleCount; i++) mediaDuration += samples.durations[i]!;
  const firstDecodeTime = samples ? samples.firstDecodeTime : 0;
  const editMs = Math.round((firstDecodeTime * MOVIE_TIMESCALE) / t.timescale);
  const trackDurationMs = samples ? editMs + Math.round((mediaDuration * MOVIE_TIMESCALE) / t.timescale) : 0;
  w.box('trak');
  writeTkhd(w, t, trackDurationMs);
  if (samples && editMs > 0) {
    // The first sample's decode time is kept as an empty edit, so timestamps match the fragments' tfdt.
    w.box('edts');
    w.fullBox('elst', 1, 0);
    w.u32(2); // entry_count
    w.u64(editMs); // segment_duration
    w.u32(0xffffffff); // media_time = -1 (64-bit): an empty edit
    w.u32(0xffffffff);
    w.u16(1); // media_rate_integer
    w.u16(0); // media_rate_fraction
    w.u64(trackDurationMs - editMs); // segment_duration
    w.u64(0); // media_time
    w.u16(1); // media_rate_integer
    w.u16(0); // media_rate_fraction
    w.end();
    w.end();
  }
  w.box('mdia');
  w.fullBox('mdhd', 1, 0);
  w.u64(0); // creation_time
  w.u64(0); // modification_time
  w.u32(t.timescale); // timescale
  w.u64(mediaDuration); // duration
  w.u16(0x55c4); // pad 0, language 'und' (ISO-639-2/T, 5 bits per letter)
  w.u16(0); // pre_defined
  w.end();
  w.fullBox('hdlr', 0, 0);
  w.u32(0); // pre_defined
  w.fourcc(t.handler); // handler_type
  w.zeros(12); // reserved[3]
  w.raw(t.handler === 'vide' ? NAME_VIDEO : NAME_SOUND); // name, null-terminated UTF-8
  w.end();
  w.box('minf');
  if (t.handler === 'vide') {
    w.fullBox('vmhd', 0, 1);
    w.u16(0); // graphicsmode
    w.zeros(6); // opcolor[3]
    w.end();
  } else {
    w.fullBox('smhd', 0, 0);
    w.u16(0); // balance
    w.u16(0); // reserved
    w.end();
  }
  w.box('dinf');
  w.fullBox('dref', 0, 0);
  w.u32(1); // entry_count
  w.fullBox('url ', 0, 1); // flags 1: media data in the same file
  w.end();
  w.end();
  w.end();
  w.box('stbl');
  w.fullBox('stsd', 0, 0);
  w.u32(1); // entry_count
  w.raw(t.sampleEntry); // SampleEntry
  w.end();
  if (samples) writeSampleTables(w, t, samples, chunkBase);
  else {
    w.fullBox('stts', 0, 0);
    w.u32(0); // entry_count
    w.end();
    w.fullBox('stsc', 0, 0);
    w.u32(0); // entry_count
    w.end();
    w.fullBox('stsz', 0, 0);
    w.u32(0); // sample_size
    w.u32(0); // sample_count
    w.end();
    w.fullBox('stco', 0, 0);
    w.u32(0); // entry_count
    w.end();
  }
  w.end(); // stbl
  w.end(); // minf
  w.end(); // mdia
  w.end(); // trak
}

/** An ASCII string as bytes with a terminating NUL. */
function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const NAME_VIDEO = /* @__PURE__ */ cString('VideoHandler');
const NAME_SOUND = /* @__PURE__ */ cString('SoundHandler');

function writeSampleTables(
  w: BoxWriter,
  t: Mp4TrackDescription,
  s: Mp4TrackSamples,
  chunkBase: number,
): void {
  const n = s.sampleCount;
  // stts: runs of equal durations.
  w.fullBox('stts', 0, 0);
  const sttsCount = w.pos;
  w.u32(0); // entry_count, patched
  let entries = 0;
  for (let i = 0; i < n; ) {
    const d = s.durations[i]!;
    let j = i + 1;
    while (j < n && s.durations[j] === d) j++;
    w.u32(j - i); // sample_count
    w.u32(d); // sample_delta
    entries++;
    i = j;
  }
  w.patchU32(sttsCount, entries);
  w.end();
  // ctts only when some composition offset is not zero (version 1: signed offsets).
  let anyOffset = false;
  for (let i = 0; i < n && !anyOffset; i++) anyOffset = s.compositionOffsets[i] !== 0;
  if (anyOffset) {
    w.fullBox('ctts', 1, 0);
    const at = w.pos;
    w.u32(0); // entry_count, patched
    entries = 0;
    for (let i = 0; i < n; ) {
      const o = s.compositionOffsets[i]!;
      let j = i + 1;
      while (j < n && s.compositionOffsets[j] === o) j++;
      w.u32(j - i); // sample_count
      w.i32(o); // sample_offset
      entries++;
      i = j;
    }
    w.patchU32(at, entries);
    w.end();
  }
  // stss for video (audio: every sample is a sync sample, the box is omitted).
  if (t.handler === 'vide') {
    w.fullBox('stss', 0, 0);
    const at = w.pos;
    w.u32(0); // entry_count, patched
    entries = 0;
    for (let i = 0; i < n; i++) {
      if (s.sync[i]) {
        w.u32(i + 1); // sample_number
        entries++;
      }
    }
    w.patchU32(at, entries);
    w.end();
  }
  // stsc: runs of chunks with the same sample count.
  w.fullBox('stsc', 0, 0);
  const stscAt = w.pos;
  w.u32(0); // entry_count, patched
  entries = 0;
  let previous = -1;
  for (let c = 0; c < s.chunkCount; c++) {
    const end = c + 1 < s.chunkCount ? s.chunkFirstSample[c + 1]! : n;
    const count = end - s.chunkFirstSample[c]!;
    if (count !== previous) {
      w.u32(c + 1); // first_chunk
      w.u32(count); // samples_per_chunk
      w.u32(1); // sample_description_index
      entries++;
      previous = count;
    }
  }
  w.patchU32(stscAt, entries);
  w.end();
  w.fullBox('stsz', 0, 0);
  w.u32(0); // sample_size: sizes follow
  w.u32(n); // sample_count
  for (let i = 0; i < n; i++) w.u32(s.sizes[i]!); // entry_size
  w.end();
  const last = s.chunkCount > 0 ? chunkBase + s.chunkOffsets[s.chunkCount - 1]! : 0;
  const large = last > 0xffffffff;
  w.fullBox(large ? 'co64' : 'stco', 0, 0);
  w.u32(s.chunkCount); // entry_count
  for (let c = 0; c < s.chunkCount; c++) {
    const offset = chunkBase + s.chunkOffsets[c]!;
    if (large)
      w.u64(offset); // chunk_offset (64-bit)
    else w.u32(offset); // chunk_offset
  }
  w.end();
}

/** Writes the `moov` of a fragmented file: empty tables, `mvex` with one `trex` per track. */
export function writeFragmentedMoov(w: BoxWriter, tracks: readonly Mp4TrackDescription[]): void {
  w.box('moov');
  writeMvhd(w, 0, tracks.length + 1);
  for (const t of tracks) writeTrak(w, t, null, 0);
  w.box('mvex');
  for (const t of tracks) {
    w.fullBox('trex', 0, 0);
    w.u32(t.trackId); // track_ID
    w.u32(1); // default_sample_description_index
    w.u32(0); // default_sample_duration
    w.u32(0); // default_sample_size
    w.u32(t.handler === 'vide' ? FLAGS_NON_SYNC : FLAGS_SYNC); // default_sample_flags
    w.end();
  }
  w.end(); // mvex
  w.end(); // moov
}

/** Writes the `moov` of a progressive file; chunk offsets are `chunkBase` + the offsets in the tables. */
export function writeProgressiveMoov(
  w: BoxWriter,
  tracks: readonly Mp4TrackDescription[],
  samples: readonly Mp4TrackSamples[],
  chunkBase: number,
): void {
  let durationMs = 0;
  tracks.forEach((t, i) => {
    const s = samples[i]!;
    let d = s.firstDecodeTime;
    for (let k = 0; k < s.sampleCount; k++) d += s.durations[k]!;
    durationMs = Math.max(durationMs, Math.round((d * MOVIE_TIMESCALE) / t.timescale));
  });
  w.box('moov');
  writeMvhd(w, durationMs, tracks.length + 1);
  tracks.forEach((t, i) => {
    writeTrak(w, t, samples[i]!, chunkBase);
  });
  w.end();
}
