/**
 * Where each video frame is encoded: on the event loop's thread or on the libuv thread pool.
 *
 * Handing a frame to the pool costs about the same whatever the encode costs: two thread wake-ups, and
 * the picture and x264's state moving to another core's cache (0.1 ms per 360p frame, 0.3 ms per 720p
 * frame on the 2-core machines we measure on). That is 10 % of a 360p ultrafast encode and 1–3 % of a
 * 720p veryfast one. So `'auto'` keeps cheap frames on the calling thread, but only while the process's
 * synchronous encodes stay a small share of the event loop; past that share, or for any frame that would
 * block the loop for long, the pool's second core is worth its toll.
 */

/** Frames whose estimated encode time reaches this many ms always go to the pool (bounds loop blocking). */
export const SYNC_MAX_FRAME_MS = 4;

/** Event-loop ms per wall second that all synchronous encoders of the process may claim together. */
export const SYNC_BUDGET_MS_PER_S = 300;

/** Weight of the newest measurement in the running estimate of one frame's encode time. */
const ESTIMATE_WEIGHT = 0.1;

/** Integer µs per second, so claims given back sum to exactly zero. */
let claimedUsPerS = 0;

/** Event-loop ms per second currently claimed by synchronous encoders (for tests and diagnostics). */
export function syncClaimMsPerSecond(): number {
  return claimedUsPerS / 1000;
}

/** One encoder's offload decisions; `mode` `true`/`false` pins the choice, `'auto'` applies the budget. */
export class OffloadPolicy {
  readonly #mode: boolean | 'auto';
  readonly #fps: number;
  #estimateMs: number | undefined;
  #claim = 0;

  constructor(mode: boolean | 'auto', fps: number) {
    this.#mode = mode;
    this.#fps = fps;
  }

  /** Decides for the next frame. In `'auto'`, an unmeasured encoder starts on the pool. */
  next(): boolean {
    if (this.#mode !== 'auto') return this.#mode;
    this.release();
    const estimate = this.#estimateMs;
    if (estimate === undefined || estimate >= SYNC_MAX_FRAME_MS) return true;
    const cost = Math.round(estimate * this.#fps * 1000);
    if (claimedUsPerS + cost > SYNC_BUDGET_MS_PER_S * 1000) return true;
    this.#claim = cost;
    claimedUsPerS += cost;
    return false;
  }

  /**
   * Folds one frame's encode time into the estimate. Pool frames include the hand-off and any wait for
   * a pool thread, so a busy pool keeps an encoder there: the safe side.
   */
  record(ms: number): void {
    const e = this.#estimateMs;
    this.#estimateMs = e === undefined ? ms : e + ESTIMATE_WEIGHT * (ms - e);
  }

  /** Gives this encoder's share of the budget back (on close). */
  release(): void {
    claimedUsPerS -= this.#claim;
    this.#claim = 0;
  }
}
