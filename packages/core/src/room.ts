/**
 * RoomRecorder: the thin adapter between a LiveKit room (`@livekit/rtc-node` `Room`) and
 * {@link TrackRecording}s. It maps room events (track subscribed/unsubscribed, participant left,
 * room disconnected) to attaching and detaching sources; everything else lives in the recording.
 * Recording kinds mirror Egress: participant, track composite, single track, and auto (every participant).
 */

import { EventEmitter } from 'node:events';
import {
  AudioStream,
  ConnectionState,
  type RemoteParticipant,
  type RemoteTrack,
  type RemoteTrackPublication,
  Room,
  RoomEvent,
  TrackKind,
  TrackSource,
  VideoStream,
} from '@livekit/rtc-node';
import { RecorderError } from './errors.js';
import { childLogger, type RecorderLogger, silentLogger } from './log.js';
import { type MetricSample, toMetricSamples } from './metrics.js';
import { TrackRecording } from './recording.js';
import { mintRecorderToken } from './token.js';
import type { RecordingInfo, RecordingMode, RecordingOptions } from './types.js';

/** Options shared by every recording of a {@link RoomRecorder}; per-call options override them. */
export type RecordingDefaults = Omit<RecordingOptions, 'mode' | 'id'>;

/** Options of {@link RoomRecorder.connect}. */
export interface ConnectOptions {
  /** LiveKit server URL (`wss://…`). */
  url: string;
  /** API key used to mint the recorder's token. */
  apiKey: string;
  /** API secret used to mint the recorder's token. */
  apiSecret: string;
  /** Room to record. */
  roomName: string;
  /** Recorder identity; default `trackrec-<random>`. */
  identity?: string;
  /** Give up joining after this long, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Defaults of every recording. */
  defaults: RecordingDefaults;
  /** pino-compatible logger. */
  logger?: RecorderLogger;
}

/** Options of {@link RoomRecorder.attach}. */
export interface AttachOptions {
  /** Defaults of every recording. */
  defaults: RecordingDefaults;
  /** pino-compatible logger. */
  logger?: RecorderLogger;
}

/** Per-recording overrides. */
export type RecordingOverrides = Partial<RecordingOptions>;

/** Which source a participant recording takes its tracks from (Egress `screen_share`). */
export interface ParticipantRecordingOptions extends RecordingOverrides {
  /** Record the screen share (and its audio) instead of camera and microphone. */
  screenShare?: boolean;
}

/** Events of a {@link RoomRecorder}. */
export interface RoomRecorderEvents {
  /** A recording was created (auto mode included). */
  recording: [TrackRecording];
  /** A recording ended. */
  ended: [RecordingInfo];
}

interface Binding {
  recording: TrackRecording;
  /** Whether a subscribed track belongs in this recording, and as which kind. */
  match(
    kind: 'video' | 'audio' | null,
    publication: RemoteTrackPublication,
    participant: RemoteParticipant,
  ): 'video' | 'audio' | null;
  /** End the recording when this participant leaves. */
  identity: string | null;
  /** Track sids currently attached. */
  attached: Map<'video' | 'audio', string>;
  /** End the recording when its only track is unpublished (single-track recordings). */
  endWithTrack: boolean;
}

const SOURCE_NAMES: Record<number, string> = {
  [TrackSource.SOURCE_CAMERA]: 'camera',
  [TrackSource.SOURCE_MICROPHONE]: 'microphone',
  [TrackSource.SOURCE_SCREENSHARE]: 'screen_share',
  [TrackSource.SOURCE_SCREENSHARE_AUDIO]: 'screen_share_audio',
};

function kindOf(track: RemoteTrack | RemoteTrackPublication): 'video' | 'audio' | null {
  if (track.kind === TrackKind.KIND_VIDEO) return 'video';
  if (track.kind === TrackKind.KIND_AUDIO) return 'audio';
  return null;
}

/**
 * Records a LiveKit room in-process: joins it (or uses a `Room` the caller has, e.g. a LiveKit agent's
 * `ctx.room`) and runs participant, track-composite, track and auto recordings on it.
 *
 * @example
 * ```ts
 * const recorder = await RoomRecorder.connect({
 *   url: 'wss://my.livekit.cloud', apiKey, apiSecret, roomName: 'demo',
 *   defaults: { outputDir: '/rec', segments: { segmentDuration: 4 } },
 * });
 * const rec = await recorder.recordParticipant('alice');
 * rec.on('ended', (info) => console.log(info.status, info.file?.location));
 * // …
 * await recorder.close();
 * ```
 */
export class RoomRecorder extends EventEmitter<RoomRecorderEvents> {
  /** The room recorded. */
  readonly room: Room;
  /** The logger. */
  readonly logger: RecorderLogger;
  readonly #defaults: RecordingDefaults;
  readonly #owned: boolean;
  readonly #bindings = new Set<Binding>();
  #auto: ParticipantRecordingOptions | null = null;
  #closed = false;
  readonly #listeners: [string, (...args: never[]) => void][] = [];

  private constructor(room: Room, defaults: RecordingDefaults, owned: boolean, logger: RecorderLogger) {
    super();
    if (typeof defaults !== 'object' || defaults === null)
      throw new TypeError('options.defaults must be an object');
    this.room = room;
    this.#defaults = defaults;
    this.#owned = owned;
    this.logger = logger;
    this.#listen(
      RoomEvent.TrackSubscribed,
      (track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant) =>
        this.#onSubscribed(track, pub, p),
    );
    this.#listen(
      RoomEvent.TrackUnsubscribed,
      (_t: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant) => this.#onGone(pub, p),
    );
    this.#listen(RoomEvent.TrackUnpublished, (pub: RemoteTrackPublication, p: RemoteParticipant) =>
      this.#onGone(pub, p),
    );
    this.#listen(RoomEvent.TrackPublished, (pub: RemoteTrackPublication, p: RemoteParticipant) =>
      this.#onPublished(pub, p),
    );
    this.#listen(RoomEvent.ParticipantConnected, (p: RemoteParticipant) => this.#onParticipant(p));
    this.#listen(RoomEvent.ParticipantDisconnected, (p: RemoteParticipant) => this.#onParticipantLeft(p));
    this.#listen(RoomEvent.Disconnected, () => {
      this.logger.info('room disconnected: ending every recording');
      void this.stopAll();
    });
  }

  #listen(event: string, fn: (...args: never[]) => void): void {
    (this.room as unknown as EventEmitter).on(event, fn as (...args: unknown[]) => void);
    this.#listeners.push([event, fn]);
  }

  /**
   * Mints a hidden, subscribe-only recorder token and joins the room. Fails with
   * {@link RecorderError} `CONNECT_FAILED` (bad URL, refused, bad token) or `CONNECT_TIMEOUT`.
   */
  static async connect(options: ConnectOptions): Promise<RoomRecorder> {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    if (typeof options.url !== 'string' || options.url.length === 0) {
      throw new TypeError('options.url must be a non-empty string');
    }
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError('options.connectTimeoutMs must be a positive number');
    }
    const token = await mintRecorderToken(options);
    const logger = childLogger(options.logger ?? silentLogger, { room: options.roomName });
    const room = new Room();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new RecorderError(
              'CONNECT_TIMEOUT',
              `joining room ${options.roomName} at ${options.url} timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        room.connect(options.url, token, { autoSubscribe: true, dynacast: false }).catch((error: unknown) => {
          throw new RecorderError(
            'CONNECT_FAILED',
            `could not join room ${options.roomName} at ${options.url}: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          );
        }),
        timeout,
      ]);
    } catch (error) {
      void room.disconnect().catch(() => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
    logger.info({ url: options.url }, `joined room ${options.roomName} as a hidden recorder`);
    return new RoomRecorder(room, options.defaults, true, logger);
  }

  /** Uses a room the caller already joined (a LiveKit agent's `JobContext.room`); `close()` leaves it connected. */
  static attach(room: Room, options: AttachOptions): RoomRecorder {
    if (typeof room !== 'object' || room === null) throw new TypeError('room must be an rtc-node Room');
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const logger = childLogger(options.logger ?? silentLogger, { room: room.name });
    return new RoomRecorder(room, options.defaults, false, logger);
  }

  /** Recordings that have not ended. */
  get recordings(): TrackRecording[] {
    return [...this.#bindings].map((b) => b.recording);
  }

  /**
   * Records one participant's camera and microphone (or screen share) into one file. Tracks published
   * later, or unpublished and published again, join the same file; it ends when the participant leaves.
   */
  async recordParticipant(
    identity: string,
    options: ParticipantRecordingOptions = {},
  ): Promise<TrackRecording> {
    if (typeof identity !== 'string' || identity.length === 0)
      throw new TypeError('identity must be a non-empty string');
    const videoSource = options.screenShare ? TrackSource.SOURCE_SCREENSHARE : TrackSource.SOURCE_CAMERA;
    const audioSource = options.screenShare
      ? TrackSource.SOURCE_SCREENSHARE_AUDIO
      : TrackSource.SOURCE_MICROPHONE;
    const { screenShare: _ignored, ...rest } = options;
    return this.#create(options.mode === 'auto' ? 'auto' : 'participant', rest, identity, {
      identity,
      endWithTrack: false,
      match: (kind, pub, p) => {
        if (p.identity !== identity) return null;
        if (kind === 'video' && pub.source === videoSource) return 'video';
        if (kind === 'audio' && pub.source === audioSource) return 'audio';
        return null;
      },
    });
  }

  /** Records one audio and/or one video track by sid into one file (Egress track composite). */
  async recordTrackComposite(
    tracks: { audioTrackId?: string; videoTrackId?: string },
    options: RecordingOverrides = {},
  ): Promise<TrackRecording> {
    const { audioTrackId, videoTrackId } = tracks ?? {};
    if (audioTrackId === undefined && videoTrackId === undefined) {
      throw new TypeError('tracks.audioTrackId or tracks.videoTrackId is required');
    }
    const owner = this.#ownerOf(videoTrackId ?? audioTrackId ?? '');
    return this.#create(
      'track_composite',
      { video: videoTrackId !== undefined, audio: audioTrackId !== undefined, ...options },
      owner,
      {
        identity: null,
        endWithTrack: false,
        match: (_t, pub) => (pub.sid === videoTrackId ? 'video' : pub.sid === audioTrackId ? 'audio' : null),
      },
      videoTrackId ?? audioTrackId,
    );
  }

  /** Records one track by sid (Egress track egress); ends when the track is unpublished. */
  async recordTrack(trackId: string, options: RecordingOverrides = {}): Promise<TrackRecording> {
    if (typeof trackId !== 'string' || trackId.length === 0)
      throw new TypeError('trackId must be a non-empty string');
    const pub = this.#publication(trackId);
    if (pub === undefined) throw new RangeError(`no track ${trackId} in room ${this.room.name ?? ''}`);
    const kind = kindOf(pub);
    return this.#create(
      'track',
      { video: kind === 'video', audio: kind === 'audio', ...options },
      this.#ownerOf(trackId),
      { identity: null, endWithTrack: true, match: (_t, p) => (p.sid === trackId ? kind : null) },
      trackId,
      pub,
    );
  }

  /**
   * Auto mode: records every remote participant (present now and joining later) with
   * {@link recordParticipant}. Returns the recordings started for participants already present.
   */
  async startAuto(options: ParticipantRecordingOptions = {}): Promise<TrackRecording[]> {
    this.#auto = options;
    const started: TrackRecording[] = [];
    for (const p of this.room.remoteParticipants.values()) {
      if (!this.#recordsParticipant(p.identity))
        started.push(await this.recordParticipant(p.identity, { ...options, mode: 'auto' }));
    }
    this.logger.info({ participants: started.length }, 'auto mode: recording every participant');
    return started;
  }

  /** Stops auto mode (running recordings go on). */
  stopAuto(): void {
    this.#auto = null;
  }

  /** Stops every recording gracefully; resolves with their final info. */
  async stopAll(): Promise<RecordingInfo[]> {
    return Promise.all(this.recordings.map((r) => r.stop()));
  }

  /** Prometheus-style samples of every running recording (see {@link toMetricSamples}). */
  metricSamples(): MetricSample[] {
    return this.recordings.flatMap((r) => toMetricSamples(r));
  }

  /** Stops everything, removes the room listeners, and leaves the room if `connect()` joined it. Idempotent. */
  async close(): Promise<RecordingInfo[]> {
    this.#auto = null;
    const infos = await this.stopAll();
    if (this.#closed) return infos;
    this.#closed = true;
    for (const [event, fn] of this.#listeners) {
      (this.room as unknown as EventEmitter).off(event, fn as (...args: unknown[]) => void);
    }
    if (this.#owned && this.room.connectionState !== ConnectionState.CONN_DISCONNECTED) {
      await this.room.disconnect().catch(() => {});
    }
    return infos;
  }

  #recordsParticipant(identity: string): boolean {
    for (const b of this.#bindings) if (b.identity === identity) return true;
    return false;
  }

  #publication(sid: string): RemoteTrackPublication | undefined {
    for (const p of this.room.remoteParticipants.values()) {
      const pub = p.trackPublications.get(sid);
      if (pub) return pub;
    }
    return undefined;
  }

  #ownerOf(sid: string): string | undefined {
    for (const p of this.room.remoteParticipants.values())
      if (p.trackPublications.has(sid)) return p.identity;
    return undefined;
  }

  async #create(
    mode: RecordingMode,
    overrides: RecordingOverrides,
    identity: string | undefined,
    spec: Omit<Binding, 'recording' | 'attached'>,
    trackId?: string,
    pub?: RemoteTrackPublication,
  ): Promise<TrackRecording> {
    if (this.#closed) throw new TypeError('the RoomRecorder is closed');
    // The sid arrives asynchronously after joining; never hold a recording back for it.
    let timer: NodeJS.Timeout | undefined;
    const roomId = await Promise.race([
      this.room.getSid().catch(() => ''),
      new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(''), 1000);
      }),
    ]);
    clearTimeout(timer);
    const base = this.#defaults;
    const options: RecordingOptions = {
      ...base,
      ...overrides,
      logger: overrides.logger ?? base.logger ?? this.logger,
      mode,
      names: {
        roomName: this.room.name ?? '',
        roomId,
        publisherIdentity: identity,
        trackId,
        trackType: overrides.video === false ? 'audio' : overrides.audio === false ? 'video' : 'audio_video',
        trackSource: pub?.source === undefined ? undefined : SOURCE_NAMES[pub.source],
        ...base.names,
        ...overrides.names,
      },
    };
    const recording = new TrackRecording(options);
    const binding: Binding = { ...spec, recording, attached: new Map() };
    this.#bindings.add(binding);
    recording.once('ended', (info) => {
      this.#bindings.delete(binding);
      this.emit('ended', info);
    });
    this.emit('recording', recording);
    await recording.start();
    if (recording.ended) return recording;
    // Tracks already there: attach the subscribed ones, subscribe to the others.
    for (const p of this.room.remoteParticipants.values()) {
      for (const publication of p.trackPublications.values()) {
        if (publication.track) this.#offer(binding, publication.track as RemoteTrack, publication, p);
        else if (!publication.subscribed && this.#wants(binding, publication, p))
          publication.setSubscribed(true);
      }
    }
    return recording;
  }

  /** Whether an unsubscribed publication would match (decided on kind, source and sid). */
  #wants(binding: Binding, pub: RemoteTrackPublication, p: RemoteParticipant): boolean {
    return binding.match(kindOf(pub), pub, p) !== null;
  }

  #offer(binding: Binding, track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant): void {
    const kind = binding.match(kindOf(track), pub, p);
    if (kind === null || binding.recording.ended) return;
    const sid = pub.sid ?? '';
    if (binding.attached.get(kind) === sid) return;
    binding.attached.set(kind, sid);
    binding.recording.logger.info(
      { kind, trackId: sid, identity: p.identity },
      `attaching ${kind} track ${sid}`,
    );
    if (kind === 'video') binding.recording.attachVideo(new VideoStream(track));
    else binding.recording.attachAudio(new AudioStream(track, { sampleRate: 48_000, numChannels: 2 }));
  }

  #onSubscribed(track: RemoteTrack, pub: RemoteTrackPublication, p: RemoteParticipant): void {
    for (const b of this.#bindings) this.#offer(b, track, pub, p);
  }

  #onPublished(pub: RemoteTrackPublication, p: RemoteParticipant): void {
    if (pub.subscribed) return;
    for (const b of this.#bindings) {
      if (this.#wants(b, pub, p)) {
        pub.setSubscribed(true);
        return;
      }
    }
  }

  #onGone(pub: RemoteTrackPublication, _p: RemoteParticipant): void {
    for (const b of this.#bindings) {
      for (const [kind, sid] of b.attached) {
        if (sid !== pub.sid) continue;
        b.attached.delete(kind);
        if (kind === 'video') b.recording.detachVideo();
        else b.recording.detachAudio();
        if (b.endWithTrack) void b.recording.stop();
      }
    }
  }

  #onParticipant(p: RemoteParticipant): void {
    const auto = this.#auto;
    if (auto === null || this.#recordsParticipant(p.identity)) return;
    this.recordParticipant(p.identity, { ...auto, mode: 'auto' }).catch((error: unknown) => {
      this.logger.error({ err: error, identity: p.identity }, 'auto mode could not start a recording');
    });
  }

  #onParticipantLeft(p: RemoteParticipant): void {
    for (const b of this.#bindings) {
      if (b.identity === p.identity) {
        b.recording.logger.info({ identity: p.identity }, 'participant left: ending its recording');
        void b.recording.stop();
      }
    }
  }
}
