/**
 * The MPEG-TS muxer (ISO/IEC 13818-1): one program, PAT/PMT, PES per access unit, PCR on the video
 * PID. Every sink call is a whole number of 188-byte packets ending on a PES boundary, so the bytes
 * written so far always form a valid transport stream.
 *
 * Clock model: the mux clock is the largest DTS written (90 kHz ticks, shifted by the PCR offset so
 * it never starts below it); the PCR is the clock minus a constant offset. PCR-only packets fill any
 * gap larger than the PCR interval, and PAT/PMT are repeated between them whenever they fall due, so
 * both bounds hold in PCR time whatever the frame rate.
 */

import {
  type AacConfig,
  ADTS_HEADER_SIZE,
  checkAdtsFrames,
  checkRawAacFrame,
  writeAdtsHeader,
} from './adts.js';
import {
  CLOCK_90KHZ,
  FIRST_ES_PID,
  PAT_PID,
  PMT_PID,
  STREAM_ID,
  STREAM_TYPE,
  TS_PACKET_SIZE,
} from './constants.js';
import { MuxerInputError } from './errors.js';
import {
  type AccessUnitScan,
  AUD_NAL,
  accessUnitScan,
  lengthPrefixedToAnnexB,
  sameBytes,
  scanAccessUnit,
} from './h264.js';
import { opusControlHeaderSize, opusDescriptors, opusPacketSamples, writeOpusControlHeader } from './opus.js';
import { checkPacket, checkTrackOptions } from './packet-input.js';
import {
  type FirstPacketFields,
  PES_HEADER_PTS,
  PES_HEADER_PTS_DTS,
  packetizePes,
  pesPacketCount,
  writePesHeader,
} from './pes.js';
import { buildPatPacket, buildPmtPacket, type PmtStream } from './psi.js';
import { toTicks90k } from './timestamp.js';
import { PAYLOAD_ONLY, type PidState, pidState, writePcrOnlyPacket } from './ts-packet.js';
import type { ChunkInfo, EncodedPacket, TrackCodec, TrackOptions, TsMuxerOptions, TsSink } from './types.js';

/** Opus pre-skip goes out as start_trim (13 bits) spread over the first packets; 4 full trims at most. */
const MAX_OPUS_PRE_SKIP = 0x1fff * 4;
/** A PCR gap longer than this is not filled packet by packet: the PCR jumps with discontinuity_indicator. */
const MAX_FILLED_PCR_GAP = 10 * CLOCK_90KHZ;
/** An audio PES must keep PES_packet_length within 16 bits (3 + 5 header bytes + payload). */
const MAX_AUDIO_PES_PAYLOAD = 0xffff - 8;
const NO_DTS = Number.NEGATIVE_INFINITY;

interface Track {
  readonly id: number;
  readonly codec: TrackCodec;
  readonly video: boolean;
  readonly pid: PidState;
  readonly streamType: number;
  readonly streamId: number;
  readonly timescale: number;
  readonly descriptors: Uint8Array;
  lastDts: number;
  // H.264
  readonly lengthSize: number;
  parameterSets: Uint8Array | null;
  seenKeyframe: boolean;
  // AAC (null config: ADTS input)
  readonly aac: AacConfig | null;
  // Opus
  readonly channelCount: number;
  pendingStartTrim: number;
  // Pending audio PES.
  batch: Uint8Array;
  batchLength: number;
  batchFrames: number;
  batchPts: number;
  batchDts: number;
  batchEnd: number;
}

function checkOption(
  value: number | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`options.${name} must be a number from ${min} to ${max}`);
  }
  return value;
}

/**
 * Muxes H.264, AAC and Opus access units into one MPEG-TS program, synchronously, into a sink.
 *
 * @example
 * ```ts
 * const muxer = new TsMuxer({ sink: (chunk) => fs.writeSync(fd, chunk) });
 * const video = muxer.addTrack({ codec: 'h264' });
 * const audio = muxer.addTrack({ codec: 'aac', audioSpecificConfig });
 * muxer.write(video, { data: annexB, pts: 0, dts: 0, keyframe: true });
 * muxer.write(audio, { data: aacFrame, pts: 0 });
 * muxer.close();
 * ```
 */
export class TsMuxer {
  private readonly sink: TsSink;
  private readonly pcrOffset: number;
  private readonly pcrInterval: number;
  private readonly tableInterval: number;
  private readonly maxAudioPesTicks: number;
  private readonly transportStreamId: number;
  private readonly programNumber: number;

  private readonly tracks: Track[] = [];
  private readonly patState = pidState(PAT_PID);
  private readonly pmtState = pidState(PMT_PID);
  private patPacket: Uint8Array | null = null;
  private pmtPacket: Uint8Array | null = null;
  private pcrTrack: Track | null = null;
  private hasVideo = false;

  /** Largest DTS written since the start or the last discontinuity, in shifted ticks; -1 before any. */
  private clock = -1;
  /** Last PCR written (the one in effect), or -1. */
  private lastPcr = -1;
  /** Extension of the last PCR written: a PCR repeating the same base counts on in 27 MHz cycles. */
  private lastPcrExtension = 0;
  /** PCR in effect when PAT/PMT were last written, or -1. */
  private lastTablePcr = -1;
  private tablesDue = true;
  private segmentRequested = false;
  private discontinuityPending = false;
  private closed = false;

  private out = new Uint8Array(1 << 16);
  private readonly scan: AccessUnitScan = accessUnitScan();
  private readonly annexB = { buffer: new Uint8Array(0) };
  private readonly first: FirstPacketFields = { randomAccess: false, pcr: -1, pcrExtension: 0 };
  private readonly info: ChunkInfo = {
    trackId: 0,
    kind: 'video',
    pts: 0,
    dts: 0,
    duration: 0,
    frames: 0,
    keyframe: false,
    randomAccess: false,
    discontinuity: false,
    byteLength: 0,
  };

  // State of the chunk being assembled between beginChunk() and finishChunk().
  private chunkTrack: Track | null = null;
  private chunkPesStart = 0;
  private chunkSource = 0;
  private chunkLength = 0;
  private chunkTablesFirst = false;

  constructor(options: TsMuxerOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.sink !== 'function') throw new TypeError('options.sink must be a function');
    this.sink = options.sink;
    this.pcrOffset = Math.round(
      (checkOption(options.pcrOffsetMs, 'pcrOffsetMs', 1, 900, 500) * CLOCK_90KHZ) / 1000,
    );
    this.pcrInterval = Math.round(
      (checkOption(options.pcrIntervalMs, 'pcrIntervalMs', 1, 100, 40) * CLOCK_90KHZ) / 1000,
    );
    this.tableInterval = Math.round(
      (checkOption(options.tableIntervalMs, 'tableIntervalMs', 1, 500, 100) * CLOCK_90KHZ) / 1000,
    );
    this.maxAudioPesTicks = Math.round(
      (checkOption(options.maxAudioPesDurationMs, 'maxAudioPesDurationMs', 0, 100, 100) * CLOCK_90KHZ) / 1000,
    );
    this.transportStreamId = Math.round(
      checkOption(options.transportStreamId, 'transportStreamId', 0, 0xffff, 1),
    );
    this.programNumber = Math.round(checkOption(options.programNumber, 'programNumber', 1, 0xffff, 1));
  }

  /**
   * Ticks added to every timestamp so the PCR (clock − offset) never goes below zero: a packet with
   * pts 0 is written with PTS = `timestampOffset`. Equal to the PCR offset.
   */
  get timestampOffset(): number {
    return this.pcrOffset;
  }

  /**
   * Adds a track and returns its id (0, 1, …; PID 0x100 + id). All tracks must be added before the
   * first {@link write}.
   */
  addTrack(options: TrackOptions): number {
    if (this.patPacket) throw new TypeError('tracks must be added before the first write');
    const checked = checkTrackOptions(options, MAX_OPUS_PRE_SKIP);
    const id = this.tracks.length;
    const pid = FIRST_ES_PID + id;
    const timescale = checked.inputTimescale;
    const lengthSize = checked.avc?.lengthSize ?? 0;
    const parameterSets =
      checked.avc !== null && checked.avc.parameterSets.length > 0 ? checked.avc.parameterSets : null;
    const aac = checked.aac;
    const channelCount = checked.channelCount;
    const preSkip = checked.preSkip;
    const descriptors = options.codec === 'opus' ? opusDescriptors(channelCount) : new Uint8Array(0);
    const video = options.codec === 'h264';
    const track: Track = {
      id,
      codec: options.codec,
      video,
      pid: pidState(pid),
      streamType: STREAM_TYPE[options.codec],
      streamId: video
        ? STREAM_ID.video
        : options.codec === 'opus'
          ? STREAM_ID.privateStream1
          : STREAM_ID.audio,
      timescale,
      descriptors,
      lastDts: NO_DTS,
      lengthSize,
      parameterSets,
      seenKeyframe: false,
      aac,
      channelCount,
      pendingStartTrim: preSkip,
      batch: new Uint8Array(video ? 0 : 8192),
      batchLength: 0,
      batchFrames: 0,
      batchPts: 0,
      batchDts: 0,
      batchEnd: 0,
    };
    this.tracks.push(track);
    if (video) this.hasVideo = true;
    return id;
  }

  /**
   * Writes one access unit. On invalid input it throws {@link MuxerInputError} and writes nothing of
   * the packet: the stream stays valid and later packets may continue it.
   */
  write(trackId: number, packet: EncodedPacket): void {
    if (this.closed) throw new MuxerInputError('CLOSED', 'the muxer is closed', trackId);
    const track = this.tracks[trackId];
    if (track === undefined) throw new MuxerInputError('UNKNOWN_TRACK', `no track ${trackId}`, trackId);
    const dts = checkPacket(packet, trackId);
    const data = packet.data;
    const pts = packet.pts;
    const ptsTicks = toTicks90k(pts, track.timescale) + this.pcrOffset;
    const dtsTicks = toTicks90k(dts, track.timescale) + this.pcrOffset;
    if (dtsTicks < 0 || !Number.isSafeInteger(ptsTicks) || !Number.isSafeInteger(dtsTicks)) {
      throw new MuxerInputError(
        'INVALID_TIMESTAMP',
        `timestamp out of range (pts ${pts}, dts ${dts})`,
        trackId,
      );
    }
    if (ptsTicks < dtsTicks)
      throw new MuxerInputError('PTS_BEFORE_DTS', `pts ${pts} is before dts ${dts}`, trackId);
    if (dtsTicks <= track.lastDts) {
      throw new MuxerInputError(
        'DTS_BACKWARDS',
        `dts ${dts} does not advance past the previous packet's`,
        trackId,
      );
    }
    const clock = Math.max(this.clock, dtsTicks);
    if (dtsTicks <= clock - this.pcrOffset) {
      throw new MuxerInputError(
        'DTS_BEFORE_PCR',
        `dts ${dts} lags the other tracks by more than pcrOffsetMs: it would be before the PCR`,
        trackId,
      );
    }
    if (this.patPacket === null) this.freezeTracks();
    if (track.video) this.writeVideo(track, data, ptsTicks, dtsTicks, packet.keyframe, clock);
    else this.writeAudio(track, data, ptsTicks, dtsTicks, clock);
  }

  /**
   * Makes the next random access point begin a new segment: pending audio is written now, and the next
   * IDR (or, without video, the next audio PES) starts with PAT/PMT and has `info.randomAccess` set.
   */
  startSegment(): void {
    this.flushAudio();
    this.segmentRequested = true;
  }

  /**
   * Declares a timebase discontinuity (a timestamp jump, a source restart): the next packet of every PID
   * carries discontinuity_indicator, the PCR restarts from the next timestamps, and timestamps may go
   * backwards once per track.
   */
  markDiscontinuity(): void {
    this.flushAudio();
    for (const track of this.tracks) {
      track.lastDts = NO_DTS;
      track.pid.discontinuityPending = true;
    }
    this.clock = -1;
    this.lastPcr = -1;
    this.lastPcrExtension = 0;
    this.lastTablePcr = -1;
    this.tablesDue = true;
    this.discontinuityPending = true;
  }

  /** Writes pending audio now (audio frames are otherwise batched up to `maxAudioPesDurationMs`). */
  flush(): void {
    this.flushAudio();
  }

  /** Flushes pending audio. Later writes throw; calling it again does nothing. */
  close(): void {
    if (this.closed) return;
    this.flushAudio();
    this.closed = true;
  }

  private freezeTracks(): void {
    if (this.tracks.length === 0) throw new TypeError('add at least one track before writing');
    this.pcrTrack = this.tracks.find((t) => t.video) ?? this.tracks[0]!;
    const streams: PmtStream[] = this.tracks.map((t) => ({
      streamType: t.streamType,
      pid: t.pid.pid,
      descriptors: t.descriptors,
    }));
    this.patPacket = buildPatPacket(this.transportStreamId, this.programNumber, PMT_PID);
    this.pmtPacket = buildPmtPacket(this.programNumber, PMT_PID, this.pcrTrack.pid.pid, streams);
  }

  private writeVideo(
    track: Track,
    input: Uint8Array,
    pts: number,
    dts: number,
    keyframeFlag: boolean | undefined,
    clock: number,
  ): void {
    const data =
      track.lengthSize > 0 ? lengthPrefixedToAnnexB(input, track.lengthSize, track.id, this.annexB) : input;
    const scan = this.scan;
    scanAccessUnit(data, track.id, scan);
    const keyframe = scan.idr;
    if (keyframeFlag === true && !keyframe) {
      throw new MuxerInputError(
        'NOT_KEYFRAME',
        'packet.keyframe is true but the access unit has no IDR slice',
        track.id,
      );
    }
    if (!track.seenKeyframe && !keyframe) {
      throw new MuxerInputError('NOT_KEYFRAME', 'the first video access unit must be an IDR', track.id);
    }
    const ownSets = scan.hasSps && scan.hasPps;
    if (keyframe && !ownSets && track.parameterSets === null) {
      throw new MuxerInputError(
        'MISSING_PARAMETER_SETS',
        'IDR without SPS/PPS, and none seen before',
        track.id,
      );
    }
    // Accepted: nothing below throws.
    if (keyframe && ownSets) {
      const sets = data.subarray(scan.paramStart, scan.paramEnd);
      if (track.parameterSets === null || !sameBytes(track.parameterSets, sets))
        track.parameterSets = sets.slice();
    }
    const insertedSets = keyframe && !ownSets ? track.parameterSets! : null;
    if (keyframe) this.flushAudio();
    this.advanceClock(clock);
    track.lastDts = dts;
    track.seenKeyframe = true;

    // PES payload: AUD first (moved there if the encoder put it later), SPS/PPS when missing, the AU.
    const audLength = scan.audFirst ? 0 : AUD_NAL.length;
    const moved = scan.audStart >= 0 ? scan.audEnd - scan.audStart : 0;
    const setsLength = insertedSets === null ? 0 : insertedSets.length;
    const payload = audLength + setsLength + data.length - moved;

    const first = this.first;
    first.randomAccess = keyframe;
    first.pcr = track === this.pcrTrack ? clock - this.pcrOffset : -1;
    const forceTables = keyframe;
    let o = this.beginChunk(track, PES_HEADER_PTS_DTS + payload, forceTables, keyframe);
    const out = this.out;
    o += writePesHeader(out, o, track.streamId, payload, pts, dts, true);
    if (audLength > 0) {
      out.set(AUD_NAL, o);
      o += audLength;
    }
    if (insertedSets !== null) {
      out.set(insertedSets, o);
      o += setsLength;
    }
    if (moved === 0) {
      out.set(data, o);
    } else {
      out.set(data.subarray(0, scan.audStart), o);
      out.set(data.subarray(scan.audEnd), o + scan.audStart);
    }
    const info = this.info;
    info.pts = pts;
    info.dts = dts;
    info.duration = 0;
    info.frames = 1;
    info.keyframe = keyframe;
    this.finishChunk();
  }

  private writeAudio(track: Track, data: Uint8Array, pts: number, dts: number, clock: number): void {
    let frameBytes: number;
    let durationTicks: number;
    let trim = 0;
    if (track.codec === 'aac') {
      if (track.aac !== null) {
        checkRawAacFrame(data, track.id);
        frameBytes = ADTS_HEADER_SIZE + data.length;
        durationTicks = toTicks90k(1024, track.aac.sampleRate);
      } else {
        const adts = checkAdtsFrames(data, track.id);
        frameBytes = data.length;
        durationTicks = toTicks90k(1024 * adts.frames, adts.sampleRate);
      }
    } else {
      const samples = opusPacketSamples(data, track.id);
      trim = Math.min(track.pendingStartTrim, samples);
      frameBytes = opusControlHeaderSize(data.length, trim, 0) + data.length;
      durationTicks = toTicks90k(samples, 48_000);
    }
    // Accepted: nothing below throws.
    if (
      track.batchFrames > 0 &&
      (track.batchLength + frameBytes > MAX_AUDIO_PES_PAYLOAD ||
        dts + durationTicks - track.batchPts > this.maxAudioPesTicks)
    ) {
      this.flushBatch(track);
    }
    this.advanceClock(clock);
    track.lastDts = dts;
    track.pendingStartTrim -= trim;

    if (track.batchLength + frameBytes > track.batch.length) {
      const grown = new Uint8Array(Math.max(track.batchLength + frameBytes, track.batch.length * 2));
      grown.set(track.batch.subarray(0, track.batchLength));
      track.batch = grown;
    }
    const batch = track.batch;
    let o = track.batchLength;
    if (track.codec === 'aac') {
      if (track.aac !== null) {
        writeAdtsHeader(batch, o, track.aac, data.length);
        o += ADTS_HEADER_SIZE;
      }
    } else {
      o += writeOpusControlHeader(batch, o, data.length, trim, 0);
    }
    batch.set(data, o);
    if (track.batchFrames === 0) {
      track.batchPts = pts;
      track.batchDts = dts;
    }
    track.batchLength = o + data.length;
    track.batchFrames += 1;
    track.batchEnd = pts + durationTicks;
    if (this.maxAudioPesTicks === 0) this.flushBatch(track);
  }

  /** Moves the clock to `clock`, first writing any pending audio that the new PCR would overtake. */
  private advanceClock(clock: number): void {
    if (clock <= this.clock) return;
    const pcrAfter = clock - this.pcrOffset + this.pcrInterval;
    for (const t of this.tracks) {
      if (t.batchFrames > 0 && t.batchDts <= pcrAfter) this.flushBatch(t);
    }
    this.clock = clock;
  }

  private flushAudio(): void {
    for (const t of this.tracks) if (t.batchFrames > 0) this.flushBatch(t);
  }

  private flushBatch(track: Track): void {
    const first = this.first;
    first.randomAccess = true;
    first.pcr = track === this.pcrTrack ? this.clock - this.pcrOffset : -1;
    const length = track.batchLength;
    let o = this.beginChunk(track, PES_HEADER_PTS + length, false, !this.hasVideo);
    o += writePesHeader(this.out, o, track.streamId, length, track.batchPts, track.batchDts, false);
    this.out.set(track.batch.subarray(0, length), o);
    const info = this.info;
    info.pts = track.batchPts;
    info.dts = track.batchDts;
    info.duration = track.batchEnd - track.batchPts;
    info.frames = track.batchFrames;
    info.keyframe = false;
    track.batchLength = 0;
    track.batchFrames = 0;
    this.finishChunk();
  }

  /**
   * Starts a chunk: writes the PCR-only packets and PAT/PMT that must precede this PES, reserves its
   * packets and returns where its `pesLength` contiguous bytes go (PES header first).
   * `canStartSegment`: this PES is a point where a segment may begin (IDR, or any audio without video).
   */
  private beginChunk(
    track: Track,
    pesLength: number,
    forceTables: boolean,
    canStartSegment: boolean,
  ): number {
    const pcrTrack = this.pcrTrack!;
    const target = this.clock - this.pcrOffset;
    const first = this.first;
    const segmentStart = canStartSegment && this.segmentRequested;
    const tablesFirst = forceTables || segmentStart;
    if (segmentStart) this.segmentRequested = false;

    // PCR packets before the PES: fill a gap step by step, or jump with a discontinuity.
    let fills = 0;
    let pcrOnly = false;
    if (this.lastPcr < 0) {
      pcrOnly = track !== pcrTrack;
    } else if (target - this.lastPcr > this.pcrInterval) {
      if (target - this.lastPcr > MAX_FILLED_PCR_GAP) {
        pcrTrack.pid.discontinuityPending = true;
        pcrOnly = track !== pcrTrack;
      } else {
        fills = Math.ceil((target - this.lastPcr) / this.pcrInterval) - 1;
      }
    }
    const pesPackets = pesPacketCount(pesLength, first, track.pid.discontinuityPending);
    // Worst case before the PES: tables first, then after every PCR packet.
    const maxPrefix = (2 + (fills + (pcrOnly ? 1 : 0)) * 3) * TS_PACKET_SIZE;
    this.ensureCapacity(maxPrefix + pesPackets * TS_PACKET_SIZE);

    // Tables go first when forced or due, and again after any PCR packet that makes them due.
    let o = tablesFirst ? this.writeTables(0) : this.writeTablesIfDue(0);
    const startsWithTables = o > 0;
    for (let k = 1; k <= fills; k++) {
      const pcr = this.lastPcr + this.pcrInterval;
      writePcrOnlyPacket(this.out, o, pcrTrack.pid, pcr, this.nextPcrExtension(pcr));
      o += TS_PACKET_SIZE;
      o = this.writeTablesIfDue(o);
    }
    if (pcrOnly) {
      writePcrOnlyPacket(this.out, o, pcrTrack.pid, target, this.nextPcrExtension(target));
      o += TS_PACKET_SIZE;
      o = this.writeTablesIfDue(o);
    }
    if (first.pcr >= 0) first.pcrExtension = this.nextPcrExtension(first.pcr);

    this.chunkTrack = track;
    this.chunkPesStart = o;
    this.chunkLength = pesLength;
    this.chunkTablesFirst = startsWithTables;
    const end = o + pesPackets * TS_PACKET_SIZE;
    this.chunkSource = end - pesLength;
    return this.chunkSource;
  }

  /**
   * Records `pcr` as the PCR in effect and returns its extension: 0, or one 27 MHz cycle past the
   * previous PCR when the base repeats, so no two PCRs at different bytes carry the same time.
   */
  private nextPcrExtension(pcr: number): number {
    this.lastPcrExtension =
      pcr === this.lastPcr && this.lastPcrExtension < 299 ? this.lastPcrExtension + 1 : 0;
    this.lastPcr = pcr;
    return this.lastPcrExtension;
  }

  private finishChunk(): void {
    const track = this.chunkTrack!;
    const end = packetizePes(
      this.out,
      this.chunkPesStart,
      this.chunkSource,
      this.chunkLength,
      track.pid,
      this.first,
    );
    const info = this.info;
    info.trackId = track.id;
    info.kind = track.video ? 'video' : 'audio';
    info.randomAccess = this.chunkTablesFirst && (this.hasVideo ? info.keyframe : true);
    info.discontinuity = this.discontinuityPending;
    info.byteLength = end;
    this.discontinuityPending = false;
    this.chunkTrack = null;
    this.sink(this.out.subarray(0, end), info);
  }

  /**
   * Called at the start of every chunk and after every PCR-only packet: the PCR in effect moves by at
   * most the PCR interval between two calls, so writing the tables once they are
   * `tableInterval − pcrInterval` old keeps every gap below `tableInterval` in PCR time.
   */
  private writeTablesIfDue(o: number): number {
    if (!this.tablesDue && this.lastPcr - this.lastTablePcr < this.tableInterval - this.pcrInterval) return o;
    return this.writeTables(o);
  }

  /** PAT then PMT, each with its own continuity_counter advanced. */
  private writeTables(o: number): number {
    const out = this.out;
    out.set(this.patPacket!, o);
    this.patState.cc = (this.patState.cc + 1) & 0x0f;
    out[o + 3] = PAYLOAD_ONLY | this.patState.cc; // continuity_counter
    out.set(this.pmtPacket!, o + TS_PACKET_SIZE);
    this.pmtState.cc = (this.pmtState.cc + 1) & 0x0f;
    out[o + TS_PACKET_SIZE + 3] = PAYLOAD_ONLY | this.pmtState.cc; // continuity_counter
    this.lastTablePcr = this.lastPcr;
    this.tablesDue = false;
    return o + 2 * TS_PACKET_SIZE;
  }

  private ensureCapacity(bytes: number): void {
    if (this.out.length < bytes) {
      let size = this.out.length * 2;
      while (size < bytes) size *= 2;
      this.out = new Uint8Array(size);
    }
  }
}
