/**
 * The fragmented MP4 muxer (ISO/IEC 14496-12 §8.8 movie fragments; ISO/IEC 14496-15 for H.264,
 * ISO/IEC 14496-14 for AAC, "Encapsulation of Opus in ISO Base Media File Format" for Opus).
 *
 * Output: an init segment (`ftyp` + `moov` with `mvex`), then one `moof` + `mdat` per fragment, each
 * handed to the sink in one synchronous call, so the bytes written so far are always a valid file up to
 * the last whole fragment. A fragment has one `traf` per track that has samples (`tfhd` with
 * default-base-is-moof, `tfdt` with the track's decode time, one `trun`) and one `mdat` with the tracks'
 * sample data one after the other. Fragments are cut before every video IDR and once they span
 * `fragmentDurationMs`. Each sample's duration is the distance to the next sample's decode time; the
 * last sample of a fragment, whose successor is not known yet, gets the previous one's (video) or its
 * codec duration (audio), and the next fragment's `tfdt` keeps decode times exact.
 */

import { checkAdtsFrames } from '../adts.js';
import { MuxerInputError } from '../errors.js';
import { parseAvcC, sameBytes } from '../h264.js';
import { opusPacketSamples } from '../opus.js';
import { checkPacket, checkTrackOptions } from '../packet-input.js';
import type { EncodedPacket, TrackCodec, TrackOptions } from '../types.js';
import {
  type AvcSampleScan,
  avcSampleScan,
  type ByteBuffer,
  writeAvcSampleFromAnnexB,
  writeAvcSampleFromLengthPrefixed,
} from './avc.js';
import { BoxWriter } from './box-writer.js';
import {
  FLAGS_NON_SYNC,
  FLAGS_SYNC,
  type Mp4TrackDescription,
  type Mp4TrackSamples,
  writeFragmentedMoov,
  writeFtyp,
} from './moov.js';
import { avc1SampleEntry, buildAvcC, mp4aSampleEntry, opusSampleEntry } from './sample-entry.js';
import { parseSps } from './sps.js';
import type { Fmp4ChunkInfo, Fmp4MuxerOptions, Fmp4SampleTable, Fmp4Sink } from './types.js';

const NO_DTS = Number.NEGATIVE_INFINITY;
const TICKS_90K = 90_000;
/** Room for moof + mdat header before the first track's samples; grown when a fragment needs more. */
const INITIAL_HEADROOM = 4096;

interface Track {
  readonly id: number;
  readonly codec: TrackCodec;
  readonly video: boolean;
  /** Units per second of the caller's timestamps. */
  readonly inputTimescale: number;
  /** mdhd timescale: 90 000 for video, the sample rate for audio. */
  timescale: number;
  description: Mp4TrackDescription | null;
  // H.264
  readonly lengthSize: number;
  sps: Uint8Array[];
  pps: Uint8Array[];
  seenKeyframe: boolean;
  // AAC
  readonly adtsInput: boolean;
  asc: Uint8Array | null;
  // Opus
  channelCount: number;
  readonly preSkip: number;
  // Timing, in media timescale units.
  lastDts: number;
  lastDelta: number;
  /**
   * Sample data of the current fragment, from `base`. The first track's buffer is also the output
   * buffer: its samples are written once, after headroom where the moof goes, and never copied again.
   */
  data: ByteBuffer;
  base: number;
  dataLength: number;
  /** First sample of the current fragment in the table, and its decode time. */
  fragStart: number;
  fragDts: number;
  fragMinPts: number;
  // Sample table since the current init segment (or of the current fragment only).
  count: number;
  sizes: Uint32Array;
  durations: Uint32Array;
  cts: Int32Array;
  sync: Uint8Array;
  chunkCount: number;
  chunkFirstSample: Uint32Array;
  chunkOffsets: Float64Array;
  firstDts: number;
}

function grow<T extends Uint32Array | Int32Array | Uint8Array | Float64Array>(a: T, need: number): T {
  if (a.length >= need) return a;
  const grown = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2));
  grown.set(a);
  return grown;
}

/** Converts `value` units of `from` per second into units of `to`, rounded, without leaving safe integers. */
function rescale(value: number, from: number, to: number): number {
  if (from === to) return Math.round(value);
  const seconds = Math.floor(value / from);
  const rest = value - seconds * from;
  return seconds * to + Math.round((rest * to) / from);
}

/**
 * Muxes H.264, AAC and Opus access units into fragmented MP4, synchronously, into a sink.
 *
 * @example
 * ```ts
 * const muxer = new Fmp4Muxer({ sink: (chunk) => fs.writeSync(fd, chunk) });
 * const video = muxer.addTrack({ codec: 'h264' });
 * const audio = muxer.addTrack({ codec: 'aac', audioSpecificConfig });
 * muxer.write(video, { data: annexB, pts: 0, dts: 0, keyframe: true });
 * muxer.write(audio, { data: aacFrame, pts: 0 });
 * muxer.close();
 * ```
 */
export class Fmp4Muxer {
  private readonly sink: Fmp4Sink;
  private readonly fragmentTicks: number;
  private readonly keepTable: boolean;
  private readonly tracks: Track[] = [];
  private hasVideo = false;
  private started = false;
  private closed = false;

  private init: Uint8Array | null = null;
  private initEmitted = false;
  private sequenceNumber = 0;
  /** Fragment state: sample count over tracks, start in 90 kHz ticks, last video DTS in 90 kHz ticks. */
  private fragSamples = 0;
  private fragStart90 = 0;
  private lastVideo90 = NO_DTS;
  /** Bytes emitted since the current init segment began (for the sample table's payload offsets). */
  private bytesSinceInit = 0;
  private mdatPayloadTotal = 0;
  private fragmentCount = 0;
  private fragmentPayloadOffsets = new Float64Array(64);
  private fragmentPayloadSizes = new Float64Array(64);

  /** moof and mdat header of the fragment being written. */
  private readonly moof = new BoxWriter(4096);
  private readonly dataOffsetAt: number[] = [];
  private readonly tailScratch: ByteBuffer = { buffer: new Uint8Array(0) };
  private readonly scan: AvcSampleScan = avcSampleScan();
  /** Output of {@link timestamps}: the packet's pts and dts in media timescale units. */
  private tsPts = 0;
  private tsDts = 0;
  private readonly info: Fmp4ChunkInfo = {
    kind: 'init',
    newInit: false,
    finishedTable: null,
    sequenceNumber: 0,
    randomAccess: false,
    pts: 0,
    dts: 0,
    duration: 0,
    samples: 0,
    mdatPayloadOffset: 0,
    mdatPayloadSize: 0,
    byteLength: 0,
  };

  constructor(options: Fmp4MuxerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.sink !== 'function') throw new TypeError('options.sink must be a function');
    this.sink = options.sink;
    const ms = options.fragmentDurationMs ?? 1000;
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 10 || ms > 10_000) {
      throw new RangeError('options.fragmentDurationMs must be a number from 10 to 10000');
    }
    this.fragmentTicks = Math.round((ms * TICKS_90K) / 1000);
    if (options.keepSampleTable !== undefined && typeof options.keepSampleTable !== 'boolean') {
      throw new TypeError('options.keepSampleTable must be a boolean');
    }
    this.keepTable = options.keepSampleTable ?? true;
  }

  /**
   * Adds a track and returns its id (0, 1, …; MP4 track_ID id + 1). All tracks must be added before the
   * first {@link write}. Options as for the MPEG-TS muxer; `timescale` is the unit of the timestamps given
   * to `write` (default 90 000 for H.264, the sample rate for AAC, 48 000 for Opus); the file uses 90 000
   * for video and the sample rate for audio.
   */
  addTrack(options: TrackOptions): number {
    if (this.started) throw new TypeError('tracks must be added before the first write');
    const checked = checkTrackOptions(options, 0xffff); // dOps PreSkip is 16 bits
    const id = this.tracks.length;
    const inputTimescale = checked.inputTimescale;
    // Media timescale: 90 kHz for video, the sample rate for audio (ADTS: from its first header).
    let timescale = options.codec === 'h264' ? TICKS_90K : options.codec === 'opus' ? 48_000 : 0;
    const lengthSize = checked.avc?.lengthSize ?? 0;
    let sps: Uint8Array[] = [];
    let pps: Uint8Array[] = [];
    if (checked.avc !== null) ({ sps, pps } = splitParameterSets(checked.avc.parameterSets));
    let asc: Uint8Array | null = null;
    let channelCount = checked.channelCount;
    const preSkip = checked.preSkip;
    if (checked.aac !== null && options.codec === 'aac' && options.audioSpecificConfig !== undefined) {
      asc = options.audioSpecificConfig.slice();
      timescale = checked.aac.sampleRate;
      channelCount = checked.aac.channelConfiguration === 7 ? 8 : checked.aac.channelConfiguration;
    }
    const video = options.codec === 'h264';
    const track: Track = {
      id,
      codec: options.codec,
      video,
      inputTimescale,
      timescale,
      description: null,
      lengthSize,
      sps,
      pps,
      seenKeyframe: false,
      adtsInput: options.codec === 'aac' && asc === null,
      asc,
      channelCount,
      preSkip,
      lastDts: NO_DTS,
      lastDelta: 0,
      data: { buffer: new Uint8Array(id === 0 ? (1 << 18) + INITIAL_HEADROOM : video ? 1 << 18 : 1 << 14) },
      base: id === 0 ? INITIAL_HEADROOM : 0,
      dataLength: 0,
      fragStart: 0,
      fragDts: 0,
      fragMinPts: 0,
      count: 0,
      sizes: new Uint32Array(256),
      durations: new Uint32Array(256),
      cts: new Int32Array(256),
      sync: new Uint8Array(256),
      chunkCount: 0,
      chunkFirstSample: new Uint32Array(16),
      chunkOffsets: new Float64Array(16),
      firstDts: 0,
    };
    try {
      this.describe(track);
    } catch (e) {
      throw new TypeError(`options.avcC holds an unreadable SPS: ${(e as Error).message}`);
    }
    this.tracks.push(track);
    if (video) this.hasVideo = true;
    return id;
  }

  /**
   * The current init segment (`ftyp` + `moov`), for an HLS `#EXT-X-MAP`: a copy owned by the caller.
   * Null while an H.264 track without `avcC` has not received its first IDR (its SPS is needed).
   */
  initSegment(): Uint8Array | null {
    if (this.init === null && this.tracks.length > 0 && this.tracks.every((t) => t.description !== null)) {
      this.buildInit();
    }
    return this.init === null ? null : this.init.slice();
  }

  /**
   * Writes one access unit. On invalid input it throws {@link MuxerInputError} and nothing of the
   * packet is kept: the output stays valid and later packets may continue it.
   */
  write(trackId: number, packet: EncodedPacket): void {
    if (this.closed) throw new MuxerInputError('CLOSED', 'the muxer is closed', trackId);
    const track = this.tracks[trackId];
    if (track === undefined) throw new MuxerInputError('UNKNOWN_TRACK', `no track ${trackId}`, trackId);
    const dtsIn = checkPacket(packet, trackId);
    const data = packet.data;
    const pts = packet.pts;
    if (track.video) this.writeVideo(track, data, pts, dtsIn, packet.keyframe);
    else this.writeAudio(track, data, pts, dtsIn);
  }

  /** Writes the pending fragment now (a fragment is otherwise written when the next one begins). */
  flush(): void {
    if (this.fragSamples > 0 && this.ready()) this.emitFragment(null, 0);
  }

  /** Flushes the pending fragment. Later writes throw; calling it again does nothing. */
  close(): void {
    if (this.closed) return;
    if (this.fragSamples > 0 && this.ready()) this.emitFragment(null, 0);
    else if (!this.initEmitted && this.ready() && this.tracks.length > 0) this.emitInit(false);
    this.closed = true;
  }

  /**
   * The compact sample table of everything written since the current init segment, for
   * {@link buildProgressiveHeader}. Only samples of fragments already handed to the sink are included
   * (call {@link flush} or {@link close} first). After a resolution change this is the new part's
   * table; the finished part's table came with the new init chunk ({@link Fmp4ChunkInfo.finishedTable}).
   * Throws when `keepSampleTable` was false.
   */
  sampleTable(): Fmp4SampleTable {
    if (!this.keepTable) throw new TypeError('sampleTable() needs options.keepSampleTable to be true');
    const tracks: Mp4TrackDescription[] = [];
    const samples: Mp4TrackSamples[] = [];
    for (const t of this.tracks) {
      if (t.description === null) continue;
      tracks.push(t.description);
      const n = t.fragStart;
      samples.push({
        sampleCount: n,
        sizes: t.sizes.subarray(0, n),
        durations: t.durations.subarray(0, n),
        compositionOffsets: t.cts.subarray(0, n),
        sync: t.sync.subarray(0, n),
        chunkCount: t.chunkCount,
        chunkFirstSample: t.chunkFirstSample.subarray(0, t.chunkCount),
        chunkOffsets: t.chunkOffsets.subarray(0, t.chunkCount),
        firstDecodeTime: t.firstDts,
      });
    }
    return {
      tracks,
      samples,
      fragmentCount: this.fragmentCount,
      fragmentPayloadOffsets: this.fragmentPayloadOffsets.subarray(0, this.fragmentCount),
      fragmentPayloadSizes: this.fragmentPayloadSizes.subarray(0, this.fragmentCount),
      mdatPayloadSize: this.mdatPayloadTotal,
    };
  }

  // -------------------------------------------------------------------------------------------

  /** Validates and converts timestamps into {@link tsPts}/{@link tsDts} (media units), or throws. */
  private timestamps(track: Track, pts: number, dtsIn: number): void {
    const p = rescale(pts, track.inputTimescale, track.timescale);
    const d = rescale(dtsIn, track.inputTimescale, track.timescale);
    if (d < 0 || !Number.isSafeInteger(p) || !Number.isSafeInteger(d)) {
      throw new MuxerInputError(
        'INVALID_TIMESTAMP',
        `timestamp out of range (pts ${pts}, dts ${dtsIn}); decode times start at 0`,
        track.id,
      );
    }
    if (p < d) throw new MuxerInputError('PTS_BEFORE_DTS', `pts ${pts} is before dts ${dtsIn}`, track.id);
    if (p - d > 0x7fffffff) {
      throw new MuxerInputError('INVALID_TIMESTAMP', `pts ${pts} is too far after dts ${dtsIn}`, track.id);
    }
    if (d <= track.lastDts) {
      throw new MuxerInputError(
        'DTS_BACKWARDS',
        `dts ${dtsIn} does not advance past the previous packet's`,
        track.id,
      );
    }
    if (track.lastDts !== NO_DTS && d - track.lastDts > 0xffffffff) {
      throw new MuxerInputError('INVALID_TIMESTAMP', `dts ${dtsIn} jumps too far ahead`, track.id);
    }
    this.tsPts = p;
    this.tsDts = d;
  }

  private writeVideo(
    track: Track,
    data: Uint8Array,
    ptsIn: number,
    dtsIn: number,
    keyflag: boolean | undefined,
  ): void {
    this.timestamps(track, ptsIn, dtsIn);
    const pts = this.tsPts;
    const dts = this.tsDts;
    const scan = this.scan;
    const at = track.base + track.dataLength;
    if (track.lengthSize > 0) {
      writeAvcSampleFromLengthPrefixed(data, track.lengthSize, track.data, at, scan, track.id);
    } else {
      writeAvcSampleFromAnnexB(data, track.data, at, scan, track.id);
    }
    const keyframe = scan.idr;
    if (keyflag === true && !keyframe) {
      throw new MuxerInputError(
        'NOT_KEYFRAME',
        'packet.keyframe is true but the access unit has no IDR slice',
        track.id,
      );
    }
    if (!track.seenKeyframe && !keyframe) {
      throw new MuxerInputError('NOT_KEYFRAME', 'the first video access unit must be an IDR', track.id);
    }
    const ownSets = scan.sps.length > 0 && scan.pps.length > 0;
    let changed = false;
    if (keyframe) {
      if (!ownSets && track.sps.length === 0) {
        throw new MuxerInputError(
          'MISSING_PARAMETER_SETS',
          'IDR without SPS/PPS, and none seen before',
          track.id,
        );
      }
      if (ownSets && (!sameList(scan.sps, track.sps) || !sameList(scan.pps, track.pps))) {
        try {
          parseSps(scan.sps[0]!);
        } catch (e) {
          throw new MuxerInputError('INVALID_NAL', `unreadable SPS: ${(e as Error).message}`, track.id);
        }
        changed = true;
      }
    }
    // Accepted: nothing below throws.
    const size = scan.size;
    if (changed) {
      const configured = track.description !== null;
      track.sps = scan.sps.map((s) => s.slice());
      track.pps = scan.pps.map((s) => s.slice());
      if (configured && this.initEmitted) {
        // A new configuration: close the fragment, then a new init segment; the sample sits at `at`.
        this.closeOpenSample(track, dts);
        if (this.fragSamples > 0) this.emitFragment(track, size);
        // The finished configuration's table goes out with the new init chunk (views into arrays that
        // stay untouched until the append below), so the part it ends can be made progressive too.
        const finished = this.keepTable ? this.sampleTable() : null;
        this.describe(track);
        this.resetTables();
        this.emitInit(true, finished);
        this.append(track, pts, dts, size, true);
        return;
      }
      this.describe(track);
      this.init = null;
    }
    this.closeOpenSample(track, dts);
    const dts90 = (dts * TICKS_90K) / track.timescale;
    if (
      this.fragSamples > 0 &&
      this.ready() &&
      (keyframe || dts90 - this.fragStart90 >= this.fragmentTicks)
    ) {
      this.emitFragment(track, size);
    }
    this.lastVideo90 = dts90;
    this.append(track, pts, dts, size, keyframe);
  }

  private writeAudio(track: Track, data: Uint8Array, ptsIn: number, dtsIn: number): void {
    let payload = data;
    let samples = 1024; // AAC frame length (ISO/IEC 14496-3 §4.5.1.1, 1024-sample frames)
    let newAsc: Uint8Array | null = null;
    let newRate = 0;
    if (track.codec === 'opus') {
      samples = opusPacketSamples(data, track.id);
    } else if (track.adtsInput) {
      const adts = checkAdtsFrames(data, track.id);
      const headerLength = data[1]! & 1 ? 7 : 9; // protection_absent
      const frameLength = ((data[3]! & 3) << 11) | (data[4]! << 3) | (data[5]! >> 5); // frame_length
      if (adts.frames !== 1 || frameLength !== data.length) {
        throw new MuxerInputError(
          'INVALID_ADTS',
          'give one ADTS frame with one raw data block per packet',
          track.id,
        );
      }
      const asc = ascFromAdts(data);
      if (track.asc === null) {
        newAsc = asc;
        newRate = adts.sampleRate;
      } else if (!sameBytes(asc, track.asc)) {
        throw new MuxerInputError(
          'INVALID_ADTS',
          'ADTS header differs from the first frame of the track',
          track.id,
        );
      }
      payload = data.subarray(headerLength);
    }
    if (newAsc !== null) {
      // The first ADTS frame fixes the track's configuration; refused timestamps leave it unset.
      track.timescale = newRate;
      let ok = false;
      try {
        this.timestamps(track, ptsIn, dtsIn);
        ok = true;
      } finally {
        if (!ok) track.timescale = 0;
      }
      track.asc = newAsc;
      const channels = (newAsc[1]! >> 3) & 0x0f;
      track.channelCount = channels === 7 ? 8 : channels;
      this.describe(track);
    }
    this.timestamps(track, ptsIn, dtsIn);
    const pts = this.tsPts;
    const dts = this.tsDts;
    // Accepted: nothing below throws.
    const at = track.base + track.dataLength;
    const buf = track.data;
    if (buf.buffer.length < at + payload.length) {
      const grown = new Uint8Array(Math.max(at + payload.length, buf.buffer.length * 2));
      grown.set(buf.buffer.subarray(0, at));
      buf.buffer = grown;
    }
    buf.buffer.set(payload, at);
    this.closeOpenSample(track, dts);
    const dts90 = (dts * TICKS_90K) / track.timescale;
    const span = dts90 - this.fragStart90;
    // With video, audio cuts only when the video stalls; the video's keyframes set the fragments.
    if (
      this.fragSamples > 0 &&
      this.ready() &&
      span >= this.fragmentTicks &&
      (!this.hasVideo || dts90 - this.lastVideo90 >= this.fragmentTicks)
    ) {
      this.emitFragment(track, payload.length);
    }
    track.lastDelta = samples;
    this.append(track, pts, dts, payload.length, true);
  }

  /** Gives the track's last sample its true duration now that the next decode time is known. */
  private closeOpenSample(track: Track, dts: number): void {
    if (track.lastDts === NO_DTS || track.count === 0) return;
    const delta = dts - track.lastDts;
    track.durations[track.count - 1] = delta;
    if (track.video) track.lastDelta = delta;
  }

  private append(track: Track, pts: number, dts: number, size: number, sync: boolean): void {
    this.started = true;
    const i = track.count;
    if (i >= track.sizes.length) {
      track.sizes = grow(track.sizes, i + 1);
      track.durations = grow(track.durations, i + 1);
      track.cts = grow(track.cts, i + 1);
      track.sync = grow(track.sync, i + 1);
    }
    if (i === 0 && track.chunkCount === 0) track.firstDts = dts;
    track.sizes[i] = size;
    // Provisional duration until the next sample: the previous delta (video, default 1/30 s) or codec frame.
    track.durations[i] = track.lastDelta > 0 ? track.lastDelta : Math.round(track.timescale / 30);
    track.cts[i] = pts - dts;
    track.sync[i] = sync ? 1 : 0;
    if (i === track.fragStart) {
      track.fragDts = dts;
      track.fragMinPts = pts;
    } else if (pts < track.fragMinPts) track.fragMinPts = pts;
    track.count = i + 1;
    track.dataLength += size;
    track.lastDts = dts;
    if (track.video) track.seenKeyframe = true;
    const dts90 = (dts * TICKS_90K) / track.timescale;
    if (this.fragSamples === 0 || dts90 < this.fragStart90) this.fragStart90 = dts90;
    this.fragSamples++;
    if (!this.initEmitted && this.ready()) this.emitInit(false);
  }

  private ready(): boolean {
    for (const t of this.tracks) if (t.description === null) return false;
    return true;
  }

  /** (Re)builds the track's sample entry once its configuration is known. */
  private describe(track: Track): void {
    let entry: Uint8Array;
    let width = 0;
    let height = 0;
    if (track.codec === 'h264') {
      if (track.sps.length === 0 || track.pps.length === 0) return;
      const info = parseSps(track.sps[0]!);
      width = info.width;
      height = info.height;
      entry = avc1SampleEntry(buildAvcC(track.sps, track.pps, info), width, height);
    } else if (track.codec === 'aac') {
      if (track.asc === null) return;
      entry = mp4aSampleEntry(track.asc, track.channelCount, track.timescale, track.id + 1);
    } else {
      entry = opusSampleEntry(track.channelCount, track.preSkip);
    }
    track.description = {
      trackId: track.id + 1,
      handler: track.video ? 'vide' : 'soun',
      timescale: track.timescale,
      width,
      height,
      sampleEntry: entry,
    };
  }

  private buildInit(): void {
    const w = new BoxWriter(1024);
    const brands: string[] = [];
    if (this.hasVideo) brands.push('avc1');
    if (this.tracks.some((t) => t.codec === 'opus')) brands.push('Opus');
    writeFtyp(w, true, brands);
    writeFragmentedMoov(
      w,
      this.tracks.map((t) => t.description!),
    );
    this.init = w.toBytes();
  }

  private emitInit(newInit: boolean, finished: Fmp4SampleTable | null = null): void {
    this.buildInit();
    this.initEmitted = true;
    const init = this.init!;
    const info = this.info;
    info.kind = 'init';
    info.newInit = newInit;
    info.finishedTable = finished;
    info.sequenceNumber = 0;
    info.randomAccess = false;
    info.pts = 0;
    info.dts = 0;
    info.duration = 0;
    info.samples = 0;
    info.mdatPayloadOffset = 0;
    info.mdatPayloadSize = 0;
    info.byteLength = init.length;
    this.bytesSinceInit = init.length;
    this.sink(init, info);
  }

  /** After a new init segment: the sample table starts again (a progressive file per configuration). */
  private resetTables(): void {
    for (const t of this.tracks) {
      t.count = 0;
      t.fragStart = 0;
      t.chunkCount = 0;
      t.dataLength = 0;
    }
    this.fragmentCount = 0;
    this.mdatPayloadTotal = 0;
  }

  /**
   * Writes the current fragment (`moof` + `mdat`) in one sink call and starts the next. `tail`: the
   * track whose next sample (`tailSize` bytes) already sits right after its fragment data; it is moved
   * to the start of the track's buffer for the next fragment.
   */
  private emitFragment(tail: Track | null, tailSize: number): void {
    if (!this.initEmitted) this.emitInit(false);
    const w = this.moof;
    w.reset();
    this.sequenceNumber++;
    let minPts = Number.POSITIVE_INFINITY;
    let minDts = Number.POSITIVE_INFINITY;
    let maxEnd = Number.NEGATIVE_INFINITY;
    let randomAccess = true;
    const dataOffsetAt = this.dataOffsetAt;
    dataOffsetAt.length = 0;
    w.box('moof');
    w.fullBox('mfhd', 0, 0);
    w.u32(this.sequenceNumber); // sequence_number
    w.end();
    for (const t of this.tracks) {
      const first = t.fragStart;
      const n = t.count - first;
      if (n === 0) {
        // A video track that has started but has no sample here: its next sample may not be an IDR.
        if (t.video && t.seenKeyframe) randomAccess = false;
        dataOffsetAt.push(-1);
        continue;
      }
      let anyCts = false;
      let span = 0;
      for (let i = first; i < t.count; i++) {
        if (t.cts[i] !== 0) anyCts = true;
        span += t.durations[i]!;
      }
      const scale = TICKS_90K / t.timescale;
      minPts = Math.min(minPts, t.fragMinPts * scale);
      minDts = Math.min(minDts, t.fragDts * scale);
      maxEnd = Math.max(maxEnd, (t.fragDts + span) * scale);
      const firstSync = t.sync[first] === 1;
      if (t.video && !firstSync) randomAccess = false;
      const defaultFlags = t.video ? FLAGS_NON_SYNC : FLAGS_SYNC;
      w.box('traf');
      w.fullBox('tfhd', 0, 0x020020); // default-base-is-moof | default-sample-flags-present
      w.u32(t.id + 1); // track_ID
      w.u32(defaultFlags); // default_sample_flags
      w.end();
      w.fullBox('tfdt', 1, 0);
      w.u64(t.fragDts); // baseMediaDecodeTime
      w.end();
      const firstFlags = t.video && firstSync;
      // data-offset | sample-duration | sample-size [| first-sample-flags] [| sample-composition-time-offset]
      const trunFlags = 0x000301 | (firstFlags ? 0x000004 : 0) | (anyCts ? 0x000800 : 0);
      w.fullBox('trun', 0, trunFlags);
      w.u32(n); // sample_count
      dataOffsetAt.push(w.pos);
      w.u32(0); // data_offset, patched below
      if (firstFlags) w.u32(FLAGS_SYNC); // first_sample_flags
      w.ensure(n * 12);
      for (let i = first; i < t.count; i++) {
        w.u32(t.durations[i]!); // sample_duration
        w.u32(t.sizes[i]!); // sample_size
        if (anyCts) w.u32(t.cts[i]!); // sample_composition_time_offset
      }
      w.end(); // trun
      w.end(); // traf
    }
    w.end(); // moof
    const moofSize = w.pos;
    let payload = 0;
    for (const t of this.tracks) payload += t.dataLength;
    const large = payload + 8 > 0xffffffff;
    const mdatHeader = large ? 16 : 8;
    let offset = moofSize + mdatHeader;
    for (const [k, t] of this.tracks.entries()) {
      const at = dataOffsetAt[k]!;
      if (at < 0) continue;
      w.patchU32(at, offset); // data_offset: from the moof's first byte (default-base-is-moof)
      offset += t.dataLength;
    }
    if (large) {
      w.u32(1); // size = 1: largesize follows
      w.fourcc('mdat'); // type
      w.u64(payload + 16); // largesize
    } else {
      w.u32(payload + 8); // size
      w.fourcc('mdat'); // type
    }
    const header = w.pos; // moof + mdat header

    // The first track's buffer is the output: headroom | its data | (its pending tail sample).
    const primary = this.tracks[0]!;
    const out = primary.data;
    let base = primary.base;
    const primaryEnd = base + primary.dataLength;
    const primaryTail = tail === primary ? tailSize : 0;
    if (header > base) {
      // More headroom: shift the first track's data (and tail) once; later fragments keep it.
      const grown = Math.ceil((header * 2) / 4096) * 4096;
      ensureBytes(
        out,
        grown + primary.dataLength + primaryTail + (payload - primary.dataLength),
        primaryEnd + primaryTail,
      );
      out.buffer.copyWithin(grown, base, primaryEnd + primaryTail);
      primary.base = grown;
      base = grown;
    }
    let end = base + primary.dataLength;
    if (primaryTail > 0) {
      // The tail would be overwritten by the other tracks' data: keep it aside.
      ensureBytes(this.tailScratch, primaryTail, 0);
      this.tailScratch.buffer.set(out.buffer.subarray(end, end + primaryTail), 0);
    }
    ensureBytes(out, base + payload, end);
    const bytes = out.buffer;
    for (let k = 1; k < this.tracks.length; k++) {
      const t = this.tracks[k]!;
      if (t.dataLength === 0) continue;
      bytes.set(t.data.buffer.subarray(t.base, t.base + t.dataLength), end);
      end += t.dataLength;
    }
    const start = base - header;
    bytes.set(w.bytes.subarray(0, header), start);
    const payloadStart = header;

    // Book-keeping for the progressive file: one chunk per track per fragment.
    if (this.fragmentCount >= this.fragmentPayloadSizes.length) {
      this.fragmentPayloadSizes = grow(this.fragmentPayloadSizes, this.fragmentCount + 1);
      this.fragmentPayloadOffsets = grow(this.fragmentPayloadOffsets, this.fragmentCount + 1);
    }
    this.fragmentPayloadOffsets[this.fragmentCount] = this.bytesSinceInit + payloadStart;
    this.fragmentPayloadSizes[this.fragmentCount] = payload;
    this.fragmentCount++;
    let chunkOffset = this.mdatPayloadTotal;
    let samples = 0;
    for (const t of this.tracks) {
      const n = t.count - t.fragStart;
      samples += n;
      if (n > 0) {
        if (t.chunkCount >= t.chunkOffsets.length) {
          t.chunkOffsets = grow(t.chunkOffsets, t.chunkCount + 1);
          t.chunkFirstSample = grow(t.chunkFirstSample, t.chunkCount + 1);
        }
        t.chunkFirstSample[t.chunkCount] = t.fragStart;
        t.chunkOffsets[t.chunkCount] = chunkOffset;
        t.chunkCount++;
        chunkOffset += t.dataLength;
      }
    }
    const length = end - start;
    this.mdatPayloadTotal += payload;
    this.bytesSinceInit += length;
    this.fragSamples = 0;
    const info = this.info;
    info.kind = 'fragment';
    info.newInit = false;
    info.finishedTable = null;
    info.sequenceNumber = this.sequenceNumber;
    info.randomAccess = randomAccess;
    info.pts = Math.round(minPts);
    info.dts = Math.round(minDts);
    info.duration = Math.round(maxEnd - minDts);
    info.samples = samples;
    info.mdatPayloadOffset = payloadStart;
    info.mdatPayloadSize = payload;
    info.byteLength = length;
    this.sink(bytes.subarray(start, end), info);

    // Next fragment: every track starts empty; a pending tail sample moves to its track's base.
    for (const t of this.tracks) {
      if (t === tail) {
        if (t === primary) t.data.buffer.set(this.tailScratch.buffer.subarray(0, tailSize), t.base);
        else t.data.buffer.copyWithin(t.base, t.base + t.dataLength, t.base + t.dataLength + tailSize);
      }
      t.dataLength = 0;
      t.fragStart = t.count;
    }
    if (!this.keepTable) this.forgetTable();
  }

  /** Without a kept table, only the open fragment's samples are needed. */
  private forgetTable(): void {
    for (const t of this.tracks) {
      t.count = 0;
      t.fragStart = 0;
      t.chunkCount = 0;
    }
    this.fragmentCount = 0;
  }
}

/** Grows `target` to at least `size` bytes, keeping its first `keep` bytes. */
function ensureBytes(target: ByteBuffer, size: number, keep: number): void {
  if (target.buffer.length >= size) return;
  const grown = new Uint8Array(Math.max(size, target.buffer.length * 2));
  grown.set(target.buffer.subarray(0, keep));
  target.buffer = grown;
}

function sameList(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameBytes(a[i]!, b[i]!)) return false;
  return true;
}

/** Splits Annex B parameter sets (as {@link parseAvcC} returns them) into SPS and PPS lists. */
function splitParameterSets(annexB: Uint8Array): { sps: Uint8Array[]; pps: Uint8Array[] } {
  const sps: Uint8Array[] = [];
  const pps: Uint8Array[] = [];
  let o = 0;
  while (o + 4 < annexB.length) {
    let end = o + 4;
    while (
      end + 3 < annexB.length &&
      !(annexB[end] === 0 && annexB[end + 1] === 0 && annexB[end + 2] === 0 && annexB[end + 3] === 1)
    )
      end++;
    if (end + 3 >= annexB.length) end = annexB.length;
    const nal = annexB.slice(o + 4, end);
    const type = nal[0]! & 0x1f;
    if (type === 7) sps.push(nal);
    else if (type === 8) pps.push(nal);
    o = end;
  }
  return { sps, pps };
}

/** AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) for the stream an ADTS header describes. */
function ascFromAdts(data: Uint8Array): Uint8Array {
  const objectType = (data[2]! >> 6) + 1; // profile_ObjectType + 1
  const frequencyIndex = (data[2]! >> 2) & 0x0f; // sampling_frequency_index
  const channels = ((data[2]! & 1) << 2) | (data[3]! >> 6); // channel_configuration
  return Uint8Array.of(
    (objectType << 3) | (frequencyIndex >> 1), // audioObjectType, samplingFrequencyIndex[3..1]
    ((frequencyIndex & 1) << 7) | (channels << 3), // samplingFrequencyIndex[0], channelConfiguration, GASpecificConfig 0
  );
}
