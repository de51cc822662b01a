/**
 * Real rtc-node local tracks fed with the demo's test picture and tone in real time, and a stand-in
 * for rtc-node's `Room` that carries them (no LiveKit server in CI: only the signalling is simulated,
 * with the event names and arguments `RoomRecorder` listens to).
 */

import { EventEmitter } from 'node:events';
import {
  AudioFrame,
  AudioSource,
  LocalAudioTrack,
  LocalVideoTrack,
  TrackKind,
  TrackSource,
  VideoBufferType,
  VideoFrame,
  VideoSource,
} from '@livekit/rtc-node';
// The participant and publication shapes core's stand-in room uses (test code only).
import { StandInParticipant, type StandInPublication } from '../../../core/test/stand-in-room.js';
import { TestPicture, TestTone } from '../../src/test-pattern.js';

/** A camera and a microphone publishing the test picture and tone, paced in real time. */
export class SyntheticPublisher {
  readonly video: LocalVideoTrack;
  readonly audio: LocalAudioTrack;
  readonly #videoSource: VideoSource;
  readonly #audioSource: AudioSource;
  readonly #picture: TestPicture;
  readonly #tone = new TestTone(48_000, 1);
  #running = true;
  #loop: Promise<void> | null = null;

  constructor(width = 320, height = 240) {
    this.#picture = new TestPicture(width, height);
    this.#videoSource = new VideoSource(width, height);
    this.video = LocalVideoTrack.createVideoTrack('camera', this.#videoSource);
    this.#audioSource = new AudioSource(48_000, 1);
    this.audio = LocalAudioTrack.createAudioTrack('microphone', this.#audioSource);
  }

  /** Starts sending 30 fps video and 10 ms audio frames until {@link close}. */
  start(): void {
    const t0 = performance.now();
    const { width, height } = this.#picture;
    this.#loop = (async () => {
      let v = 0;
      let a = 0;
      while (this.#running) {
        const now = performance.now();
        if (t0 + (v * 1000) / 30 <= now) {
          v = Math.floor(((now - t0) * 30) / 1000);
          this.#videoSource.captureFrame(
            new VideoFrame(this.#picture.frame(v), width, height, VideoBufferType.I420),
            BigInt(Math.round(now * 1000)),
          );
          v++;
        }
        while (t0 + a * 10 <= performance.now()) {
          await this.#audioSource.captureFrame(new AudioFrame(this.#tone.next(480), 48_000, 1, 480));
          a++;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  /** Stops sending and closes the tracks. */
  async close(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.allSettled([this.video.close(), this.audio.close()]);
    await this.#audioSource.close();
  }
}

/** rtc-node's `Room` as `RoomRecorder` sees it: participants, publications and their events. */
export class StandInRoom extends EventEmitter {
  name: string;
  readonly remoteParticipants = new Map<string, StandInParticipant>();
  connectionState = 1;
  constructor(name: string) {
    super();
    this.name = name;
  }
  async getSid(): Promise<string> {
    return 'RM_standin';
  }
  async disconnect(): Promise<void> {
    this.connectionState = 0;
  }
  /** A participant joins and publishes a publisher's camera and microphone. */
  join(identity: string, publisher: SyntheticPublisher): StandInParticipant {
    const p = new StandInParticipant(identity);
    this.remoteParticipants.set(identity, p);
    this.emit('participantConnected', p);
    this.#publish(p, `TR_${identity}_cam`, TrackKind.KIND_VIDEO, TrackSource.SOURCE_CAMERA, publisher.video);
    this.#publish(
      p,
      `TR_${identity}_mic`,
      TrackKind.KIND_AUDIO,
      TrackSource.SOURCE_MICROPHONE,
      publisher.audio,
    );
    return p;
  }
  #publish(p: StandInParticipant, sid: string, kind: number, source: number, track: unknown): void {
    const pub: StandInPublication = { sid, kind, source, track, subscribed: true, setSubscribed() {} };
    p.trackPublications.set(sid, pub);
    this.emit('trackPublished', pub, p);
    this.emit('trackSubscribed', track, pub, p);
  }
  /** A participant leaves (its tracks unpublished first, as the SDK reports it). */
  leave(identity: string): void {
    const p = this.remoteParticipants.get(identity);
    if (p === undefined) return;
    for (const pub of p.trackPublications.values()) {
      this.emit('trackUnsubscribed', pub.track, pub, p);
      this.emit('trackUnpublished', pub, p);
    }
    p.trackPublications.clear();
    this.remoteParticipants.delete(identity);
    this.emit('participantDisconnected', p);
  }
}
