/**
 * TrackRecording: one recording (one file and/or one HLS playlist) of up to one video and one audio
 * track, fed by any number of sources over time (a track unpublished and published again continues
 * the same file). Pipeline: sources → bounded queue → `@trackrec/encoder` → interleaver →
 * `@trackrec/muxer` (ISO/IEC 13818-1) → `@trackrec/node-writer` sinks.
 *
 * Memory is bounded by construction: sources are drained continuously into a queue of at most
 * `videoQueueFrames` frames (the oldest are dropped when the encoder lags), audio is encoded as it
 * arrives, and the interleaver holds at most its window of encoded packets.
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { EgressStatus } from '@livekit/protocol';
import {
  AudioEncoder,
  type AudioFrameLike,
  type EncodedAudioPacket,
  type EncodedVideoPacket,
  EncoderError,
  VIDEO_PRESETS,
  VideoBufferType,
  VideoEncoder,
  type VideoFrameLike,
} from '@trackrec/encoder';
import { MuxerInputError, TsMuxer } from '@trackrec/muxer';
import { FileSink, SegmentSink } from '@trackrec/node-writer';
import { AudioTimeline, VideoTimeline } from './clock.js';
import { RecorderError } from './errors.js';
import { childLogger, type RecorderLogger, silentLogger } from './log.js';
import { Mp4Output, type Mp4OutputOptions } from './mp4-output.js';
import { expandTemplate, fitComponents, resolveInside } from './names.js';
import type {
  FileInfo,
  HealthWarning,
  RecordingInfo,
  RecordingMetrics,
  RecordingMode,
  RecordingOptions,
  RecordingStatus,
  SegmentsInfo,
} from './types.js';

/** A video frame as rtc-node's `VideoStream` yields it (`VideoFrameEvent`). */
export interface VideoFrameEventLike {
  /** The picture. */
  frame: VideoFrameLike;
  /** Capture timestamp, µs, any origin (rtc-node: bigint). */
  timestampUs: bigint | number;
}

/** A source of video frames: an rtc-node `VideoStream` or any async iterable of frame events. */
export type VideoSourceLike = ReadableStream<VideoFrameEventLike> | AsyncIterable<VideoFrameEventLike>;
/** A source of audio frames: an rtc-node `AudioStream` or any async iterable of frames. */
export type AudioSourceLike = ReadableStream<AudioFrameLike> | AsyncIterable<AudioFrameLike>;

/** Events of a {@link TrackRecording}. */
export interface RecordingEvents {
  /** The recording is ACTIVE: outputs are open. */
  started: [RecordingInfo];
  /** Status changed or something worth reporting happened (Egress `egress_updated`). */
  updated: [RecordingInfo];
  /** Final status reached (COMPLETE, FAILED, ABORTED, LIMIT_REACHED). */
  ended: [RecordingInfo];
  /** The watchdog saw a stall. */
  health: [HealthWarning];
}

const TICKS_PER_US = 0.09;
const FINAL: ReadonlySet<RecordingStatus> = new Set(['COMPLETE', 'FAILED', 'ABORTED', 'LIMIT_REACHED']);
const EGRESS_STATUS: Record<RecordingStatus, number> = {
  STARTING: EgressStatus.EGRESS_STARTING,
  ACTIVE: EgressStatus.EGRESS_ACTIVE,
  ENDING: EgressStatus.EGRESS_ENDING,
  COMPLETE: EgressStatus.EGRESS_COMPLETE,
  FAILED: EgressStatus.EGRESS_FAILED,
  ABORTED: EgressStatus.EGRESS_ABORTED,
  LIMIT_REACHED: EgressStatus.EGRESS_LIMIT_REACHED,
};
/** Encoded packets wait at most this long (media time) for the other track before being muxed. */
const INTERLEAVE_WINDOW_US = 400_000;
/** The muxer's PCR offset: a track may lag the other by this much minus an audio PES. */
const PCR_OFFSET_MS = 700;
/** A queued frame this far behind the audio already written is dropped before encoding. */
const MAX_VIDEO_LATENESS_US = 450_000;
/** Audio filler keeps this far behind now, so late real frames still find room. */
const AUDIO_FILL_LAG_US = 150_000;
const MAX_FILL_CHUNK = 4800;

interface QueuedFrame {
  frame: VideoFrameLike;
  us: number;
  filler: boolean;
}

interface Pending {
  video: boolean;
  data: Uint8Array;
  pts: number;
  dts: number;
  keyframe: boolean;
}

interface Reader<T> {
  next(): Promise<{ done: boolean; value?: T }>;
  cancel(): Promise<void>;
}

function readerOf<T>(source: ReadableStream<T> | AsyncIterable<T>): Reader<T> {
  if (typeof (source as ReadableStream<T>).getReader === 'function') {
    const reader = (source as ReadableStream<T>).getReader();
    return {
      next: () => reader.read(),
      cancel: async () => {
        await reader.cancel().catch(() => {});
        reader.releaseLock();
      },
    };
  }
  if (source !== null && typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    const it = (source as AsyncIterable<T>)[Symbol.asyncIterator]();
    return {
      next: async () => {
        const r = await it.next();
        return r.done ? { done: true } : { done: false, value: r.value };
      },
      cancel: async () => {
        await it.return?.();
      },
    };
  }
  throw new TypeError('source must be a ReadableStream or an async iterable');
}

function positiveOption(
  value: number | undefined,
  name: string,
  fallback: number,
  allowZero = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`options.${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`);
  }
  return value;
}

/** A black I420 picture for when no frame was ever seen. */
function blackFrame(width: number, height: number): VideoFrameLike {
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  const data = new Uint8Array(luma + 2 * chroma);
  data.fill(16, 0, luma); // Y = 16: black in limited range (BT.601)
  data.fill(128, luma);
  const frame: VideoFrameLike = {
    data,
    width,
    height,
    type: VideoBufferType.I420,
    convert: () => frame,
  };
  return frame;
}

function silence(samples: number, sampleRate: number, channels: number): AudioFrameLike {
  return { data: new Int16Array(samples * channels), sampleRate, channels, samplesPerChannel: samples };
}

/** Checked before the frame is counted on the clock, so a frame the encoder would refuse changes nothing. */
function plausibleAudio(f: AudioFrameLike): boolean {
  return (
    typeof f === 'object' &&
    f !== null &&
    f.data instanceof Int16Array &&
    Number.isInteger(f.sampleRate) &&
    f.sampleRate >= 8000 &&
    f.sampleRate <= 192_000 &&
    Number.isInteger(f.channels) &&
    f.channels >= 1 &&
    f.channels <= 8 &&
    Number.isInteger(f.samplesPerChannel) &&
    f.samplesPerChannel > 0 &&
    f.data.length >= f.samplesPerChannel * f.channels
  );
}

/** A regular file exists at `path` (devices such as /dev/null are written in place). */
function isTaken(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Records up to one video and one audio track into a growing MPEG-TS file and/or HLS segments.
 *
 * @example
 * ```ts
 * const rec = new TrackRecording({ outputDir: '/rec', names: { roomName: 'demo', publisherIdentity: 'alice' } });
 * await rec.start();
 * rec.attachVideo(new VideoStream(videoTrack));
 * rec.attachAudio(new AudioStream(audioTrack, { sampleRate: 48000, numChannels: 2 }));
 * // …
 * const info = await rec.stop();
 * console.log(info.status, info.file?.location, info.file?.size);
 * ```
 */
export class TrackRecording extends EventEmitter<RecordingEvents> {
  /** Recording id (Egress `egress_id`). */
  readonly id: string;
  /** How the recording was requested. */
  readonly mode: RecordingMode;
  /** The logger, bound to this recording's id. */
  readonly logger: RecorderLogger;

  readonly #opts: RecordingOptions;
  readonly #hasVideo: boolean;
  readonly #hasAudio: boolean;
  readonly #queueCap: number;
  readonly #fillVideoAfterUs: number;
  readonly #fillVideoFps: number;
  readonly #fillAudioAfterUs: number;
  readonly #stallMs: number;
  readonly #healthIntervalMs: number;
  readonly #maxDurationUs: number;
  readonly #maxBytes: number;

  #status: RecordingStatus = 'STARTING';
  #error: Error | null = null;
  #details = '';
  #startedAt = 0;
  #endedAt = 0;
  #t0 = 0;
  #finishing: Promise<RecordingInfo> | null = null;
  #startPromise: Promise<RecordingInfo> | null = null;

  #videoEncoder: VideoEncoder | null = null;
  #audioEncoder: AudioEncoder | null = null;
  #mux: TsMuxer | null = null;
  #videoTrack = -1;
  #audioTrack = -1;
  #file: FileSink | null = null;
  #hls: SegmentSink | null = null;
  /** Fragmented-MP4 outputs (`file.fileType: 'mp4'`, `segments.segmentType: 'fmp4'`), or null. */
  #mp4: Mp4Output | null = null;
  #fileName = '';
  #playlistName = '';
  #livePlaylistName = '';

  // Video.
  readonly #videoTimeline = new VideoTimeline();
  #videoReader: Reader<VideoFrameEventLike> | null = null;
  #videoGen = 0;
  readonly #queue: QueuedFrame[] = [];
  #inFlight = 0;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | null = null;
  #lastFrame: VideoFrameLike | null = null;
  #lastVideoArrivalUs = 0;
  #videoIn = 0;
  #videoEncoded = 0;
  #videoDropped = 0;
  #fillerFrames = 0;
  #invalidFrames = 0;
  #invalidAudioFrames = 0;

  // Audio.
  readonly #audioTimeline = new AudioTimeline();
  #audioReader: Reader<AudioFrameLike> | null = null;
  #audioGen = 0;
  #audioOriginUs = Number.NaN;
  #lastAudioArrivalUs = 0;
  #audioIn = 0;
  /** Channel count of the last source frame (filler matches it, so the encoder's input format stays put). */
  #audioChannels = 0;

  // Interleaving and output.
  readonly #pending: Pending[] = [];
  #newestDtsUs = 0;
  #lastAudioDtsUs = Number.NEGATIVE_INFINITY;
  #latePackets = 0;
  #forceKeyframe = false;
  #bytes = 0;
  #packets = 0;
  #lastWriteAt: number | null = null;
  #firstPtsUs = Number.NaN;
  #lastPtsUs = 0;

  // Timers and watchdog.
  #timers: NodeJS.Timeout[] = [];
  #warned = false;
  #lastSize = -1;
  #lastSizeChangeAt = 0;

  constructor(options: RecordingOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.outputDir !== 'string' || options.outputDir.length === 0) {
      throw new TypeError('options.outputDir must be a non-empty string');
    }
    this.#opts = options;
    this.id = options.id ?? `TR_${randomBytes(6).toString('hex')}`;
    this.mode = options.mode ?? 'custom';
    this.#hasVideo = options.video ?? true;
    this.#hasAudio = options.audio ?? true;
    if (!this.#hasVideo && !this.#hasAudio)
      throw new TypeError('options.video and options.audio cannot both be false');
    if (options.file === false && options.segments === undefined) {
      throw new TypeError('options.file is false and options.segments is missing: nothing to write');
    }
    this.#queueCap = positiveOption(options.videoQueueFrames, 'videoQueueFrames', 8);
    const fill = options.gapFill ?? {};
    this.#fillVideoAfterUs = positiveOption(fill.videoAfterMs, 'gapFill.videoAfterMs', 500) * 1000;
    this.#fillVideoFps = positiveOption(fill.videoFps, 'gapFill.videoFps', 2, true);
    this.#fillAudioAfterUs = positiveOption(fill.audioAfterMs, 'gapFill.audioAfterMs', 300) * 1000;
    const health = options.health ?? {};
    this.#stallMs = positiveOption(health.stallMs, 'health.stallMs', 5000);
    this.#healthIntervalMs = positiveOption(health.checkIntervalMs, 'health.checkIntervalMs', 1000);
    this.#maxDurationUs = positiveOption(options.maxDurationS, 'maxDurationS', 0, true) * 1e6;
    this.#maxBytes = positiveOption(options.maxSizeBytes, 'maxSizeBytes', 0, true);
    this.logger = childLogger(options.logger ?? silentLogger, { recordingId: this.id });
  }

  /** Current status. */
  get status(): RecordingStatus {
    return this.#status;
  }

  /** True once a final status is reached. */
  get ended(): boolean {
    return FINAL.has(this.#status);
  }

  /** Microseconds on the recording clock (0 at start). */
  #nowUs(): number {
    return (performance.now() - this.#t0) * 1000;
  }

  /**
   * Opens encoders and outputs, then goes ACTIVE (emits `started`). Resolves with the info; a failure
   * to open anything ends the recording FAILED and resolves too (see `info.error`). Idempotent.
   */
  start(): Promise<RecordingInfo> {
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<RecordingInfo> {
    const o = this.#opts;
    this.#startedAt = Date.now();
    this.#t0 = performance.now();
    try {
      this.#openOutputs();
      const enc = o.encoding ?? {};
      const preset = VIDEO_PRESETS[o.preset ?? 'H264_720P_30'];
      if (preset === undefined) throw new TypeError(`options.preset must be a LiveKit preset name`);
      if (this.#hasVideo) {
        this.#videoEncoder = await VideoEncoder.create({
          preset: o.preset,
          width: enc.width ?? preset.width,
          height: enc.height ?? preset.height,
          fps: enc.framerate ?? preset.fps,
          bitrate: enc.videoBitrate !== undefined ? enc.videoBitrate * 1000 : undefined,
          keyframeIntervalS: enc.keyFrameInterval,
          x264Preset: enc.x264Preset,
          hardware: enc.hardware ?? 'software',
          onResolutionChange: enc.onResolutionChange,
          logger: { info: (m) => this.logger.info(m), warn: (m) => this.logger.warn(m) },
        });
      }
      if (this.#hasAudio) {
        this.#audioEncoder = await AudioEncoder.create({
          codec: enc.audioCodec ?? 'aac',
          sampleRate: enc.audioFrequency,
          channels: enc.audioChannels,
          bitrate: enc.audioBitrate !== undefined ? enc.audioBitrate * 1000 : undefined,
        });
      }
      if (this.#finishing) {
        // Stopped while opening: nothing will use the encoders.
        await Promise.allSettled([this.#videoEncoder?.close(), this.#audioEncoder?.close()]);
        return this.#finishing;
      }
      this.#mp4?.addTracks(this.#videoEncoder !== null, this.#audioEncoder);
      if (this.#file || this.#hls) {
        const mux = new TsMuxer({
          sink: (chunk, info) => this.#writeChunk(chunk, info),
          pcrOffsetMs: PCR_OFFSET_MS,
        });
        if (this.#videoEncoder) this.#videoTrack = mux.addTrack({ codec: 'h264' });
        const audio = this.#audioEncoder;
        if (audio) {
          this.#audioTrack =
            audio.codec === 'aac'
              ? mux.addTrack({ codec: 'aac', audioSpecificConfig: audio.codecConfig, timescale: 90_000 })
              : mux.addTrack({ codec: 'opus', channelCount: audio.channels, timescale: 90_000 });
        }
        this.#mux = mux;
      }
    } catch (error) {
      // Option errors and RecorderErrors (outputs) pass as they are; anything else came from an encoder.
      const failure =
        error instanceof TypeError || error instanceof RangeError || error instanceof RecorderError
          ? error
          : new RecorderError('ENCODER', `recording ${this.id} could not start: ${errorMessage(error)}`, {
              cause: error,
            });
      return this.#finish('FAILED', failure);
    }
    if (this.#finishing) return this.#finishing;
    this.#setStatus('ACTIVE');
    this.logger.info(
      {
        mode: this.mode,
        video: this.#hasVideo,
        audio: this.#hasAudio,
        file: this.#fileName || undefined,
        playlist: this.#playlistName || undefined,
        encoder: this.#videoEncoder?.codecName,
      },
      `recording ${this.id} started in ${this.mode} mode`,
    );
    this.#emit('started', this.info);
    this.#startTimers();
    return this.info;
  }

  #openOutputs(): void {
    const o = this.#opts;
    const dir = o.outputDir;
    const names = { ...o.names, date: o.names?.date ?? new Date(this.#startedAt) };
    const defaultTemplate = '{room_name}-{publisher_identity}-{time}';
    const wantFile = o.file === undefined ? o.segments === undefined : o.file !== false;
    const mp4: Mp4OutputOptions = { file: null, segments: null };
    try {
      if (wantFile) {
        const fileOpts = typeof o.file === 'object' ? o.file : {};
        const fileType = fileOpts.fileType ?? 'ts';
        if (fileType !== 'ts' && fileType !== 'mp4')
          throw new TypeError("options.file.fileType must be 'ts' or 'mp4'");
        if (fileOpts.progressive !== undefined && typeof fileOpts.progressive !== 'boolean') {
          throw new TypeError('options.file.progressive must be a boolean');
        }
        const ext = `.${fileType}`;
        let name = fitComponents(expandTemplate(fileOpts.filepath ?? defaultTemplate, names), 8);
        if (!name.endsWith(ext)) name += ext;
        let path = resolveInside(dir, name, 'options.file.filepath');
        mkdirSync(dirname(path), { recursive: true });
        // Two recordings expanding to the same name (same second, same identity) get -1, -2, …
        for (let n = 1; isTaken(path); n++) {
          path = resolveInside(dir, `${name.slice(0, -ext.length)}-${n}${ext}`, 'options.file.filepath');
        }
        if (fileType === 'mp4') {
          mp4.file = { path, fsync: fileOpts.fsync, progressive: fileOpts.progressive ?? true };
        } else this.#file = new FileSink(path, { fsync: fileOpts.fsync });
        this.#fileName = relative(dir, path);
      }
      if (o.segments) {
        const s = o.segments;
        // Room for node-writer's `_00000.ts` / timestamp suffix and our `-n`.
        const prefixTemplate = fitComponents(expandTemplate(s.filenamePrefix ?? defaultTemplate, names), 40);
        let prefixPath = resolveInside(dir, prefixTemplate, 'options.segments.filenamePrefix');
        for (let n = 1; s.playlistName === undefined && isTaken(`${prefixPath}.m3u8`); n++) {
          prefixPath = resolveInside(dir, `${prefixTemplate}-${n}`, 'options.segments.filenamePrefix');
        }
        const prefix = basename(prefixPath);
        const segDir = dirname(prefixPath);
        const playlist = expandTemplate(s.playlistName ?? `${prefix}.m3u8`, names);
        const live = s.livePlaylistName === undefined ? undefined : expandTemplate(s.livePlaylistName, names);
        const segmentType = s.segmentType ?? 'ts';
        if (segmentType !== 'ts' && segmentType !== 'fmp4') {
          throw new TypeError("options.segments.segmentType must be 'ts' or 'fmp4'");
        }
        const hlsOptions = {
          dir: segDir,
          prefix,
          playlistName: playlist,
          livePlaylistName: live,
          targetDuration: s.segmentDuration,
          fsync: s.fsync,
        };
        if (segmentType === 'fmp4') mp4.segments = hlsOptions;
        else this.#hls = new SegmentSink(hlsOptions);
      }
      if (mp4.file !== null || mp4.segments !== null) this.#mp4 = new Mp4Output(mp4);
      const playlistSink = this.#hls ?? this.#mp4?.hls;
      if (playlistSink) {
        this.#playlistName = relative(dir, playlistSink.playlistPath);
        this.#livePlaylistName =
          playlistSink.livePlaylistPath === null ? '' : relative(dir, playlistSink.livePlaylistPath);
      }
    } catch (error) {
      if (error instanceof TypeError || error instanceof RangeError) throw error;
      throw new RecorderError(
        'DISK',
        `recording ${this.id} could not open its outputs: ${errorMessage(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  // ---- Sources -------------------------------------------------------------------------------

  /**
   * Starts reading video from `source` (an rtc-node `VideoStream`); replaces (cancels) the previous
   * video source. The stream is drained continuously whatever the encoder does.
   */
  attachVideo(source: VideoSourceLike): void {
    if (!this.#hasVideo) throw new TypeError('this recording has no video track (options.video is false)');
    const reader = readerOf(source);
    if (this.ended || this.#status === 'ENDING') {
      void reader.cancel();
      return;
    }
    void this.#videoReader?.cancel();
    this.#videoReader = reader;
    const gen = ++this.#videoGen;
    this.#videoTimeline.newSource();
    this.logger.debug({ kind: 'video' }, 'video source attached');
    void this.#pumpVideo(reader, gen);
  }

  /** Starts reading audio from `source` (an rtc-node `AudioStream`); replaces the previous one. */
  attachAudio(source: AudioSourceLike): void {
    if (!this.#hasAudio) throw new TypeError('this recording has no audio track (options.audio is false)');
    const reader = readerOf(source);
    if (this.ended || this.#status === 'ENDING') {
      void reader.cancel();
      return;
    }
    void this.#audioReader?.cancel();
    this.#audioReader = reader;
    const gen = ++this.#audioGen;
    this.#audioTimeline.newSource();
    this.logger.debug({ kind: 'audio' }, 'audio source attached');
    void this.#pumpAudio(reader, gen);
  }

  /** Stops reading the current video source (the file goes on with filler frames). */
  detachVideo(): void {
    this.#videoGen++;
    void this.#videoReader?.cancel();
    this.#videoReader = null;
  }

  /** Stops reading the current audio source (the file goes on with silence). */
  detachAudio(): void {
    this.#audioGen++;
    void this.#audioReader?.cancel();
    this.#audioReader = null;
  }

  async #pumpVideo(reader: Reader<VideoFrameEventLike>, gen: number): Promise<void> {
    try {
      await this.start();
      for (;;) {
        const r = await reader.next();
        if (r.done || gen !== this.#videoGen || this.#status !== 'ACTIVE') break;
        if (r.value) this.#onVideoFrame(r.value);
      }
    } catch (error) {
      if (gen === this.#videoGen && this.#status === 'ACTIVE') {
        this.logger.warn({ err: error }, `video source failed: ${errorMessage(error)}`);
      }
    }
    if (gen === this.#videoGen) this.#videoReader = null;
  }

  async #pumpAudio(reader: Reader<AudioFrameLike>, gen: number): Promise<void> {
    try {
      await this.start();
      for (;;) {
        const r = await reader.next();
        if (r.done || gen !== this.#audioGen || this.#status !== 'ACTIVE') break;
        if (r.value) this.#onAudioFrame(r.value);
      }
    } catch (error) {
      if (gen === this.#audioGen && this.#status === 'ACTIVE') {
        this.logger.warn({ err: error }, `audio source failed: ${errorMessage(error)}`);
      }
    }
    if (gen === this.#audioGen) this.#audioReader = null;
  }

  /**
   * Feeds one video frame directly (what `attachVideo` does per frame). `arrivalUs` is the recording
   * clock reading at arrival; default now.
   */
  pushVideoFrame(event: VideoFrameEventLike, arrivalUs?: number): void {
    if (this.#status !== 'ACTIVE') return;
    this.#onVideoFrame(event, arrivalUs);
  }

  /** Feeds one audio frame directly (what `attachAudio` does per frame). */
  pushAudioFrame(frame: AudioFrameLike, arrivalUs?: number): void {
    if (this.#status !== 'ACTIVE') return;
    this.#onAudioFrame(frame, arrivalUs);
  }

  /**
   * Resolves when every queued video frame is encoded and written (immediately when idle). Lets a
   * caller that feeds frames faster than real time (`pushVideoFrame`) apply backpressure itself.
   */
  async drained(): Promise<void> {
    while (this.#inFlight > 0 || (this.#queue.length > 0 && this.#status === 'ACTIVE')) await this.#idle;
  }

  #onVideoFrame(event: VideoFrameEventLike, arrival = this.#nowUs()): void {
    if (this.#status !== 'ACTIVE' || !this.#videoEncoder) return;
    this.#videoIn++;
    this.#lastVideoArrivalUs = arrival;
    const us = this.#videoTimeline.map(Number(event.timestampUs), arrival);
    this.#lastFrame = event.frame;
    this.#queue.push({ frame: event.frame, us, filler: false });
    while (this.#queue.length > this.#queueCap) {
      this.#queue.shift();
      this.#videoDropped++;
    }
    this.#kickVideo();
  }

  #kickVideo(): void {
    const encoder = this.#videoEncoder;
    if (!encoder || this.#status !== 'ACTIVE') return;
    while (this.#inFlight < 2 && this.#queue.length > 0) {
      const item = this.#queue.shift() as QueuedFrame;
      if (item.us < this.#lastAudioDtsUs - MAX_VIDEO_LATENESS_US) {
        // Encoding it would give a packet the muxer must refuse: drop it while that is harmless.
        this.#videoDropped++;
        continue;
      }
      if (this.#forceKeyframe || this.#hls?.wantsRotation || this.#mp4?.wantsRotation) {
        encoder.forceKeyframe();
        this.#forceKeyframe = false;
      }
      this.#inFlight++;
      if (this.#idleResolve === null) this.#idle = new Promise((r) => (this.#idleResolve = r));
      encoder.encode(item.frame, item.us).then(
        (packets) => {
          this.#videoEncoded++;
          if (item.filler) this.#fillerFrames++;
          this.#encodeDone();
          for (const p of packets) this.#onVideoPacket(p);
          this.#kickVideo();
        },
        (error: unknown) => {
          this.#encodeDone();
          if (error instanceof EncoderError && error.code === 'INVALID_INPUT') {
            // One bad frame from a remote source must not end the recording: drop it.
            this.#videoDropped++;
            this.#invalidFrames++;
            if (this.#invalidFrames === 1 || this.#invalidFrames % 100 === 0) {
              this.logger.warn(
                { count: this.#invalidFrames },
                `dropped an invalid video frame: ${error.message}`,
              );
            }
            this.#kickVideo();
            return;
          }
          if (this.#status === 'ACTIVE') {
            this.#fail(
              new RecorderError('ENCODER', `video encoder failed: ${errorMessage(error)}`, { cause: error }),
            );
          }
        },
      );
    }
  }

  #encodeDone(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idleResolve) {
      const resolve = this.#idleResolve;
      this.#idleResolve = null;
      resolve();
    }
  }

  #onVideoPacket(p: EncodedVideoPacket): void {
    if (p.discontinuity) this.#hls?.markDiscontinuity();
    this.#pushPending({ video: true, data: p.data, pts: p.pts, dts: p.dts, keyframe: p.keyframe });
  }

  #onAudioFrame(frame: AudioFrameLike, arrival = this.#nowUs()): void {
    const encoder = this.#audioEncoder;
    if (this.#status !== 'ACTIVE' || !encoder) return;
    this.#audioIn++;
    if (!plausibleAudio(frame)) {
      this.#invalidAudio('bad rate, channels, or sample count');
      return;
    }
    this.#lastAudioArrivalUs = arrival;
    this.#audioChannels = frame.channels;
    const adj = this.#audioTimeline.accept(frame.samplesPerChannel, frame.sampleRate, arrival);
    if (Number.isNaN(this.#audioOriginUs)) {
      this.#audioOriginUs =
        this.#audioTimeline.endUs -
        ((frame.samplesPerChannel - adj.drop + adj.silence) * 1e6) / frame.sampleRate;
    }
    try {
      let left = adj.silence;
      while (left > 0) {
        const n = Math.min(left, MAX_FILL_CHUNK);
        this.#onAudioPackets(encoder.encode(silence(n, frame.sampleRate, frame.channels)));
        left -= n;
      }
      let input = frame;
      if (adj.drop > 0) {
        const n = frame.samplesPerChannel - adj.drop;
        if (n <= 0) return;
        input = {
          data: frame.data.subarray(adj.drop * frame.channels),
          sampleRate: frame.sampleRate,
          channels: frame.channels,
          samplesPerChannel: n,
        };
      }
      this.#onAudioPackets(encoder.encode(input));
    } catch (error) {
      if (error instanceof EncoderError && error.code === 'INVALID_INPUT') {
        this.#invalidAudio(error.message);
        return;
      }
      this.#fail(
        new RecorderError('ENCODER', `audio encoder failed: ${errorMessage(error)}`, { cause: error }),
      );
    }
  }

  /** Counts a refused audio frame; logs the first and every 100th, so a hostile source cannot flood the log. */
  #invalidAudio(why: string): void {
    this.#invalidAudioFrames++;
    if (this.#invalidAudioFrames === 1 || this.#invalidAudioFrames % 100 === 0) {
      this.logger.warn({ count: this.#invalidAudioFrames }, `dropped an invalid audio frame: ${why}`);
    }
  }

  #onAudioPackets(packets: EncodedAudioPacket[]): void {
    const encoder = this.#audioEncoder;
    if (!encoder) return;
    for (const p of packets) {
      const pts = Math.round(this.#audioOriginUs * TICKS_PER_US + (p.pts * 90_000) / encoder.sampleRate);
      this.#pushPending({ video: false, data: p.data, pts, dts: pts, keyframe: true });
    }
  }

  // ---- Gap filling -----------------------------------------------------------------------------

  #startTimers(): void {
    if (this.#videoEncoder && this.#fillVideoFps > 0) {
      this.#timers.push(setInterval(() => this.#fillVideo(), 1000 / this.#fillVideoFps));
    }
    if (this.#audioEncoder) this.#timers.push(setInterval(() => this.#fillAudio(), 100));
    this.#timers.push(setInterval(() => this.#watchdog(), this.#healthIntervalMs));
    for (const t of this.#timers) t.unref?.();
  }

  #fillVideo(): void {
    const encoder = this.#videoEncoder;
    if (this.#status !== 'ACTIVE' || !encoder) return;
    const now = this.#nowUs();
    if (
      now - this.#lastVideoArrivalUs < this.#fillVideoAfterUs ||
      this.#queue.length > 0 ||
      this.#inFlight > 0
    )
      return;
    if (now - this.#videoTimeline.lastUs < 800_000 / this.#fillVideoFps) return;
    const frame = this.#lastFrame ?? blackFrame(encoder.width, encoder.height);
    const us = Math.round(Math.max(now, this.#videoTimeline.lastUs + 1000));
    this.#videoTimeline.advanceTo(us);
    this.#queue.push({ frame, us, filler: true });
    this.#kickVideo();
  }

  #fillAudio(): void {
    const encoder = this.#audioEncoder;
    if (this.#status !== 'ACTIVE' || !encoder) return;
    const now = this.#nowUs();
    if (this.#audioIn > 0 && now - this.#lastAudioArrivalUs < this.#fillAudioAfterUs) return;
    if (this.#audioIn === 0 && now < this.#fillAudioAfterUs) return;
    const target = now - AUDIO_FILL_LAG_US;
    const tl = this.#audioTimeline;
    // Silence at the rate being counted (the source's), so the timeline and the encoder agree.
    const rate = tl.started ? tl.sampleRate : encoder.sampleRate;
    let startUs = tl.started ? tl.endUs : 0;
    if (target <= startUs) return;
    if (Number.isNaN(this.#audioOriginUs)) this.#audioOriginUs = startUs;
    let samples = Math.floor(((target - startUs) * rate) / 1e6);
    try {
      while (samples > 0) {
        const n = Math.min(samples, MAX_FILL_CHUNK);
        tl.fill(n, rate, startUs);
        startUs = tl.endUs;
        this.#onAudioPackets(encoder.encode(silence(n, rate, this.#audioChannels || encoder.channels)));
        samples -= n;
      }
    } catch (error) {
      this.#fail(
        new RecorderError('ENCODER', `audio encoder failed: ${errorMessage(error)}`, { cause: error }),
      );
    }
  }

  // ---- Interleaving and writing ------------------------------------------------------------------

  #pushPending(p: Pending): void {
    // Keep the list sorted by DTS (packets of one track arrive in order; insert from the end).
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1] as Pending).dts > p.dts) i--;
    this.#pending.splice(i, 0, p);
    const dtsUs = p.dts / TICKS_PER_US;
    if (dtsUs > this.#newestDtsUs) this.#newestDtsUs = dtsUs;
    this.#drainPending(false);
  }

  #drainPending(all: boolean): void {
    while (this.#pending.length > 0 && this.#status !== 'FAILED') {
      const head = this.#pending[0] as Pending;
      if (!all) {
        const otherWaiting = this.#pending.some((p) => p.video !== head.video);
        const twoTracks = this.#videoEncoder !== null && this.#audioEncoder !== null;
        const old = this.#newestDtsUs - head.dts / TICKS_PER_US >= INTERLEAVE_WINDOW_US;
        if (twoTracks && !otherWaiting && !old) return;
      }
      this.#pending.shift();
      this.#mux1(head);
      if (this.ended) return;
    }
  }

  #mux1(p: Pending): void {
    const mux = this.#mux;
    if (!mux && !this.#mp4) return;
    const track = p.video ? this.#videoTrack : this.#audioTrack;
    if (!p.video && this.#videoTrack < 0 && this.#hls?.wantsRotation) mux?.startSegment();
    try {
      mux?.write(track, { data: p.data, pts: p.pts, dts: p.dts, keyframe: p.video ? p.keyframe : undefined });
      this.#mp4?.write(p.video, p);
    } catch (error) {
      if (
        error instanceof MuxerInputError &&
        (error.code === 'DTS_BEFORE_PCR' || error.code === 'DTS_BACKWARDS')
      ) {
        this.#latePackets++;
        if (p.video) this.#forceKeyframe = true;
        this.logger.warn({ code: error.code, video: p.video }, `dropped a late packet: ${error.message}`);
        return;
      }
      if (error instanceof RecorderError) this.#fail(error);
      else if (error instanceof MuxerInputError) {
        this.#fail(new RecorderError('MUXER', `muxer refused input: ${error.message}`, { cause: error }));
      } else {
        this.#fail(new RecorderError('DISK', `write failed: ${errorMessage(error)}`, { cause: error }));
      }
      return;
    }
    const us = p.pts / TICKS_PER_US;
    if (Number.isNaN(this.#firstPtsUs) || us < this.#firstPtsUs) this.#firstPtsUs = us;
    if (us > this.#lastPtsUs) this.#lastPtsUs = us;
    if (!p.video && p.dts / TICKS_PER_US > this.#lastAudioDtsUs) this.#lastAudioDtsUs = p.dts / TICKS_PER_US;
    this.#checkLimits();
  }

  #writeChunk(chunk: Uint8Array, info: Parameters<FileSink['write']>[1] & object): void {
    this.#file?.write(chunk, info);
    this.#hls?.write(chunk, info);
    this.#bytes += chunk.byteLength;
    this.#packets += chunk.byteLength / 188;
    this.#lastWriteAt = Date.now();
  }

  #mediaDurationUs(): number {
    return Number.isNaN(this.#firstPtsUs) ? 0 : this.#lastPtsUs - this.#firstPtsUs;
  }

  #checkLimits(): void {
    if (this.#status !== 'ACTIVE') return;
    if (this.#maxBytes > 0 && Math.max(this.#bytes, this.#mp4?.bytesWritten ?? 0) >= this.#maxBytes) {
      void this.#finish('LIMIT_REACHED', null, `maxSizeBytes ${this.#maxBytes} reached`);
    } else if (this.#maxDurationUs > 0 && this.#mediaDurationUs() >= this.#maxDurationUs) {
      void this.#finish('LIMIT_REACHED', null, `maxDurationS ${this.#maxDurationUs / 1e6} reached`);
    }
  }

  // ---- Health ----------------------------------------------------------------------------------

  #watchdog(): void {
    if (this.#status !== 'ACTIVE') return;
    const now = Date.now();
    const lastWrite = Math.max(this.#lastWriteAt ?? 0, this.#mp4?.lastWriteAt ?? 0) || this.#startedAt;
    let warning: HealthWarning | null = null;
    if (now - lastWrite >= this.#stallMs) {
      warning = {
        code: 'NO_DISK_WRITE',
        message: `no disk write for ${now - lastWrite} ms`,
        id: this.id,
      };
    } else if (this.#file || this.#mp4?.file) {
      let size = -1;
      try {
        size = statSync(this.#file?.path ?? this.#mp4?.file?.currentPath ?? '').size;
      } catch {
        size = -1;
      }
      if (size !== this.#lastSize) {
        this.#lastSize = size;
        this.#lastSizeChangeAt = now;
      }
      const framesArrive =
        this.#nowUs() - Math.max(this.#lastVideoArrivalUs, this.#lastAudioArrivalUs) < this.#stallMs * 1000;
      if (framesArrive && now - this.#lastSizeChangeAt >= this.#stallMs) {
        warning = {
          code: 'FILE_NOT_GROWING',
          message: `frames arrive but ${this.#fileName} has stayed at ${size} bytes for ${now - this.#lastSizeChangeAt} ms`,
          id: this.id,
        };
      }
    }
    if (warning === null) {
      this.#warned = false;
      return;
    }
    if (this.#warned) return;
    this.#warned = true;
    this.logger.warn({ code: warning.code }, warning.message);
    this.#emit('health', warning);
    this.#emit('updated', this.info);
  }

  // ---- Status and results ----------------------------------------------------------------------

  /** Counters and figures now (cheap; safe to call from a metrics scrape). */
  metrics(): RecordingMetrics {
    const ve = this.#videoEncoder;
    const queuedUs =
      this.#queue.length > 0
        ? (this.#queue.at(-1) as QueuedFrame).us - (this.#queue[0] as QueuedFrame).us
        : 0;
    const rate = this.#audioEncoder?.sampleRate ?? 48_000;
    const tl = this.#audioTimeline;
    return {
      bytesWritten: Math.max(this.#bytes, this.#mp4?.bytesWritten ?? 0),
      packetsWritten: this.#packets,
      lastDiskWriteAt: this.#mp4?.lastWriteAt ?? this.#lastWriteAt,
      durationMs: this.#mediaDurationUs() / 1000,
      video: this.#hasVideo
        ? {
            framesIn: this.#videoIn,
            framesEncoded: this.#videoEncoded,
            framesDropped: this.#videoDropped,
            framesInvalid: this.#invalidFrames,
            fillerFrames: this.#fillerFrames,
            queued: this.#queue.length,
            encoderLagMs: (ve?.lagMs ?? 0) + queuedUs / 1000,
            reanchors: this.#videoTimeline.reanchors,
          }
        : null,
      audio: this.#hasAudio
        ? {
            framesIn: this.#audioIn,
            framesInvalid: this.#invalidAudioFrames,
            gaps: tl.gaps,
            silenceMs: (tl.silenceSamples * 1000) / rate,
            droppedMs: (tl.droppedSamples * 1000) / rate,
          }
        : null,
      avDriftMs:
        this.#hasVideo && this.#hasAudio && this.#videoIn > 0 && this.#audioIn > 0
          ? (this.#videoTimeline.delayUs - this.#audioTimeline.delayUs) / 1000
          : 0,
      latePackets: this.#latePackets,
      pendingPackets: this.#pending.length,
    };
  }

  /** Status and results now (Egress `EgressInfo`). */
  get info(): RecordingInfo {
    const mp4File = this.#mp4?.file ? this.#mp4.fileInfo() : null;
    const file: FileInfo | null =
      this.#file || mp4File
        ? {
            filename: this.#fileName,
            size: mp4File?.size ?? this.#file?.stats.bytesWritten ?? 0,
            duration: this.#mediaDurationUs() / 1000,
            startedAt: this.#startedAt,
            endedAt: this.#endedAt,
            location: mp4File?.location ?? this.#file?.path ?? '',
            ...(mp4File === null ? {} : { parts: mp4File.parts }),
          }
        : null;
    let segments: SegmentsInfo | null = null;
    if (this.#hls) {
      const s = this.#hls.stats;
      segments = {
        playlistName: this.#playlistName,
        livePlaylistName: this.#livePlaylistName,
        duration: s.duration * 1000,
        size: s.bytesWritten,
        segmentCount: s.segmentCount,
        playlistLocation: this.#hls.playlistPath,
        startedAt: this.#startedAt,
        endedAt: this.#endedAt,
      };
    }
    const fmp4 = this.#mp4?.hls;
    if (fmp4) {
      segments = {
        playlistName: this.#playlistName,
        livePlaylistName: this.#livePlaylistName,
        duration: fmp4.duration * 1000,
        size: fmp4.bytesWritten,
        segmentCount: fmp4.segments.length,
        playlistLocation: fmp4.playlistPath,
        startedAt: this.#startedAt,
        endedAt: this.#endedAt,
      };
    }
    return {
      id: this.id,
      mode: this.mode,
      status: this.#status,
      egressStatus: EGRESS_STATUS[this.#status],
      error: this.#error?.message ?? '',
      errorCause: this.#error,
      details: this.#details,
      startedAt: this.#startedAt,
      endedAt: this.#endedAt,
      file,
      segments,
    };
  }

  /** Emits without letting a listener's exception into the pipeline (it is logged instead). */
  #emit<K extends keyof RecordingEvents>(event: K, ...args: RecordingEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: RecordingEvents[K]) => boolean)(event, ...args);
    } catch (error) {
      this.logger.error({ err: error, event }, `a '${String(event)}' listener threw: ${errorMessage(error)}`);
    }
  }

  #setStatus(status: RecordingStatus): void {
    this.#status = status;
    this.#emit('updated', this.info);
  }

  /** Ends the recording gracefully (COMPLETE): encoders flushed, outputs closed. Safe to call twice. */
  stop(): Promise<RecordingInfo> {
    return this.#finish('COMPLETE', null, 'stopped');
  }

  /** Ends the recording as ABORTED (outputs are still closed properly). */
  abort(reason = 'aborted'): Promise<RecordingInfo> {
    return this.#finish('ABORTED', null, reason);
  }

  #fail(error: Error): void {
    if (this.#finishing) {
      if (!this.#error) this.#error = error;
      return;
    }
    void this.#finish('FAILED', error);
  }

  #finish(status: RecordingStatus, error: Error | null, details = ''): Promise<RecordingInfo> {
    if (this.#finishing) return this.#finishing;
    this.#error = error;
    this.#details = details || (error ? error.message : '');
    this.#finishing = this.#doFinish(status);
    return this.#finishing;
  }

  async #doFinish(status: RecordingStatus): Promise<RecordingInfo> {
    this.#setStatus('ENDING');
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.detachVideo();
    this.detachAudio();
    let final = status;
    const failed = () => this.#error !== null;
    try {
      await this.#idle;
      // Encode what is queued, then drain the encoders.
      const ve = this.#videoEncoder;
      if (ve && !failed()) {
        const rest = this.#queue.splice(0);
        for (const item of rest) {
          try {
            for (const p of await ve.encode(item.frame, item.us)) this.#onVideoPacket(p);
            this.#videoEncoded++;
          } catch {
            this.#videoDropped++;
          }
        }
        for (const p of await ve.flush()) this.#onVideoPacket(p);
      }
      const ae = this.#audioEncoder;
      if (ae && !failed()) this.#onAudioPackets(ae.flush());
      if (!failed()) this.#drainPending(true);
      if (!failed()) this.#mux?.close();
      if (!failed()) this.#mp4?.closeMuxer();
    } catch (e) {
      if (!this.#error)
        this.#error = new RecorderError('ENCODER', `flushing failed: ${errorMessage(e)}`, { cause: e });
    }
    this.#queue.length = 0;
    this.#pending.length = 0;
    for (const sink of [this.#file, this.#hls, this.#mp4]) {
      try {
        sink?.close();
      } catch (e) {
        if (!this.#error)
          this.#error = new RecorderError('DISK', `closing an output failed: ${errorMessage(e)}`, {
            cause: e,
          });
      }
    }
    await Promise.allSettled([this.#videoEncoder?.close(), this.#audioEncoder?.close()]);
    if (!this.#error && (status === 'COMPLETE' || status === 'LIMIT_REACHED')) {
      try {
        this.#mp4?.writeProgressive();
      } catch (e) {
        // The fragmented file is untouched by a failed rewrite: it stays the result.
        this.logger.warn(
          { err: e },
          `progressive MP4 rewrite failed, the fragmented file is kept: ${errorMessage(e)}`,
        );
      }
    }
    if (this.#error) {
      final = 'FAILED';
      if (!this.#details) this.#details = this.#error.message;
    }
    this.#endedAt = Date.now();
    this.#status = final;
    const info = this.info;
    const m = this.metrics();
    if (final === 'FAILED') {
      this.logger.error({ err: this.#error, status: final }, `recording ${this.id} failed: ${info.error}`);
    } else {
      this.logger.info(
        { status: final, bytes: m.bytesWritten, durationMs: m.durationMs, dropped: m.video?.framesDropped },
        `recording ${this.id} ended: ${final}${this.#details ? ` (${this.#details})` : ''}`,
      );
    }
    this.#emit('updated', info);
    this.#emit('ended', info);
    return info;
  }
}
