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

/**
 * Frames whose estimated encode time reaches this many ms always go to the pool: a synchronous encode
 * blocks the event loop for at most a quarter of a 30 fps frame interval.
 */
export const SYNC_MAX_FRAME_MS = 8;

/**
 * An encoder sent to the pool for its frame time comes back once the estimate falls below this: the
 * gap keeps an encoder near the limit from switching threads (and malloc arenas) every few frames.
 */
export const SYNC_RETURN_FRAME_MS = 6;

/** Event-loop ms per wall second that all synchronous encoders of the process may claim together. */
export const SYNC_BUDGET_MS_PER_S = 300;

/**
 * Frames in the estimate: the median of the last 16 encode times, so the IDR every keyframe interval
 * (several times a P-frame's cost) does not move it.
 */
const WINDOW = 16;

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
  readonly #times = new Float64Array(WINDOW);
  readonly #sorted = new Float64Array(WINDOW);
  #count = 0;
  #slow = false;
  #claim = 0;

  constructor(mode: boolean | 'auto', fps: number) {
    this.#mode = mode;
    this.#fps = fps;
  }

  /** Decides for the next frame. In `'auto'`, an unmeasured encoder starts on the pool. */
  next(): boolean {
    if (this.#mode !== 'auto') return this.#mode;
    this.release();
    const estimate = this.estimateMs;
    if (estimate === undefined) return true;
    // The first frames (an IDR, x264's start-up) cost more than the rest: latch only on a settled median.
    if (this.#count < WINDOW / 2) {
      if (estimate >= SYNC_MAX_FRAME_MS) return true;
    } else if (estimate >= SYNC_MAX_FRAME_MS) this.#slow = true;
    else if (estimate < SYNC_RETURN_FRAME_MS) this.#slow = false;
    if (this.#slow) return true;
    const cost = Math.round(estimate * this.#fps * 1000);
    if (claimedUsPerS + cost > SYNC_BUDGET_MS_PER_S * 1000) return true;
    this.#claim = cost;
    claimedUsPerS += cost;
    return false;
  }

  /**
   * Adds one frame's encode time to the estimate. Pool frames include the hand-off and any wait for a
   * pool thread, so a busy pool keeps an encoder there: the safe side.
   */
  record(ms: number): void {
    this.#times[this.#count % WINDOW] = ms;
    this.#count++;
  }

  /** Median encode time of the last frames, ms; undefined before the first. */
  get estimateMs(): number | undefined {
    const n = Math.min(this.#count, WINDOW);
    if (n === 0) return undefined;
    // Sorted in place, unused slots last: no allocation per frame.
    const sorted = this.#sorted;
    for (let i = 0; i < WINDOW; i++)
      sorted[i] = i < n ? (this.#times[i] as number) : Number.POSITIVE_INFINITY;
    sorted.sort();
    return n % 2 === 1
      ? (sorted[n >> 1] as number)
      : ((sorted[n / 2 - 1] as number) + (sorted[n / 2] as number)) / 2;
  }

  /** Gives this encoder's share of the budget back (on close). */
  release(): void {
    claimedUsPerS -= this.#claim;
    this.#claim = 0;
  }
}
