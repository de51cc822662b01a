/**
 * The recorder's access token (a LiveKit JWT, minted with livekit-server-sdk): it may join and
 * subscribe, never publish, and stays hidden from other participants, flagged as a recorder.
 */

import { randomBytes } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';

/** Options of {@link mintRecorderToken}. */
export interface RecorderTokenOptions {
  /** LiveKit API key. */
  apiKey: string;
  /** LiveKit API secret. */
  apiSecret: string;
  /** Room to join. */
  roomName: string;
  /** Participant identity of the recorder; default `trackrec-<random>`. */
  identity?: string;
  /** Token lifetime: seconds or a zeit/ms string; default `'6h'`. */
  ttl?: number | string;
}

function nonEmpty(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new TypeError(`options.${name} must be a non-empty string`);
  return value;
}

/**
 * Mints the recorder's JWT with the grants `roomJoin`, `room`, `canSubscribe: true`,
 * `canPublish: false`, `canPublishData: false`, `hidden: true`, `recorder: true`.
 */
export async function mintRecorderToken(options: RecorderTokenOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const apiKey = nonEmpty(options.apiKey, 'apiKey');
  const apiSecret = nonEmpty(options.apiSecret, 'apiSecret');
  const room = nonEmpty(options.roomName, 'roomName');
  const identity = options.identity ?? `trackrec-${randomBytes(4).toString('hex')}`;
  const token = new AccessToken(apiKey, apiSecret, { identity, ttl: options.ttl ?? '6h' });
  token.addGrant({
    roomJoin: true,
    room,
    canSubscribe: true,
    canPublish: false,
    canPublishData: false,
    hidden: true,
    recorder: true,
  });
  return token.toJwt();
}
