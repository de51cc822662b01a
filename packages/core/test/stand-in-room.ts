// A stand-in for rtc-node's `Room` carrying real rtc-node tracks (the same event names and arguments,
// participants with `trackPublications`), shared by test/room.test.ts and the reliability suite's churn
// case: only the signalling is simulated; frames flow through real `VideoStream`/`AudioStream` readers of
// real local tracks.
import { EventEmitter } from 'node:events';
import { TrackKind, TrackSource } from '@livekit/rtc-node';

/** A publication as the recorder reads it. */
export interface StandInPublication {
  sid: string;
  kind: number;
  source: number;
  track: unknown;
  subscribed: boolean;
  setSubscribed(v: boolean): void;
}

/** A remote participant with its publications. */
export class StandInParticipant {
  readonly identity: string;
  trackPublications = new Map<string, StandInPublication>();
  constructor(identity: string) {
    this.identity = identity;
  }
}

/** The room: join, publish, unpublish, leave emit rtc-node's `RoomEvent`s. */
export class StandInRoom extends EventEmitter {
  name = 'stand-in';
  remoteParticipants = new Map<string, StandInParticipant>();
  connectionState = 0;
  readonly sid: string;
  /** `sid` is what `getSid()` answers (room-level recordings name their folder after it). */
  constructor(sid: string) {
    super();
    this.sid = sid;
  }
  async getSid(): Promise<string> {
    return this.sid;
  }
  async disconnect(): Promise<void> {}
  join(identity: string): StandInParticipant {
    const p = new StandInParticipant(identity);
    this.remoteParticipants.set(identity, p);
    this.emit('participantConnected', p);
    return p;
  }
  publish(p: StandInParticipant, sid: string, kind: 'video' | 'audio', track: unknown): StandInPublication {
    const pub: StandInPublication = {
      sid,
      kind: kind === 'video' ? TrackKind.KIND_VIDEO : TrackKind.KIND_AUDIO,
      source: kind === 'video' ? TrackSource.SOURCE_CAMERA : TrackSource.SOURCE_MICROPHONE,
      track,
      subscribed: true,
      setSubscribed() {},
    };
    p.trackPublications.set(sid, pub);
    this.emit('trackPublished', pub, p);
    this.emit('trackSubscribed', track, pub, p);
    return pub;
  }
  unpublish(p: StandInParticipant, pub: StandInPublication): void {
    p.trackPublications.delete(pub.sid);
    this.emit('trackUnsubscribed', pub.track, pub, p);
    this.emit('trackUnpublished', pub, p);
  }
  leave(p: StandInParticipant): void {
    this.remoteParticipants.delete(p.identity);
    this.emit('participantDisconnected', p);
  }
}
