/**
 * The recording clock. Every track's media time is expressed in microseconds since the recording
 * started, on the recorder's monotonic clock (`performance.now()` unless injected).
 *
 * - Video follows the frame's `timestampUs`, relative to the first frame of the source and anchored at
 *   that frame's arrival; a jump of more than `maxJumpUs` against arrival re-anchors (new source,
 *   sender restart).
 * - Audio has no timestamps in rtc-node: samples are counted, starting at the first frame's arrival.
 *
 * Both are locked to arrival time the same way: the minimum of (arrival − media time) over a sliding
 * window estimates the transport delay without the jitter (jitter only ever delays). When that minimum
 * moves more than `toleranceUs` away from the track's anchor, the track is corrected: video shifts its
 * anchor, audio inserts silence or drops samples. So audio and video stay within about `toleranceUs` of
 * each other however long the recording runs and whatever the sender's clock rate.
 */

/** Tuning of {@link ArrivalLock}. */
export interface ArrivalLockOptions {
  /** Correct when the delay estimate drifts more than this, µs. Default 15 000. */
  toleranceUs?: number;
  /** Span of the sliding minimum, µs. Default 2 000 000. */
  windowUs?: number;
}

/**
 * Sliding-minimum estimate of arrival − media time. A correction is only proposed once a whole
 * window has been observed since the last one, so a burst after an event-loop stall (late frames that
 * catch up) never triggers one.
 */
export class ArrivalLock {
  /** Largest tolerated drift, µs. */
  readonly toleranceUs: number;
  /** Span of the sliding minimum, µs. */
  readonly windowUs: number;
  // Monotonic deque of (arrival, offset) with increasing offsets: the front is the window minimum.
  #arrivals: number[] = [];
  #offsets: number[] = [];
  #head = 0;
  #since = Number.NaN;

  constructor(options: ArrivalLockOptions = {}) {
    this.toleranceUs = options.toleranceUs ?? 15_000;
    this.windowUs = options.windowUs ?? 2_000_000;
  }

  /** Records one observation; returns the correction (µs, positive: media is behind) or 0. */
  observe(arrivalUs: number, mediaUs: number): number {
    const offset = arrivalUs - mediaUs;
    if (Number.isNaN(this.#since)) this.#since = arrivalUs;
    while (this.#offsets.length > this.#head && (this.#offsets.at(-1) as number) >= offset) {
      this.#offsets.pop();
      this.#arrivals.pop();
    }
    this.#offsets.push(offset);
    this.#arrivals.push(arrivalUs);
    while ((this.#arrivals[this.#head] as number) < arrivalUs - this.windowUs) this.#head++;
    if (this.#head > 1024) {
      this.#offsets = this.#offsets.slice(this.#head);
      this.#arrivals = this.#arrivals.slice(this.#head);
      this.#head = 0;
    }
    if (arrivalUs - this.#since < this.windowUs) return 0;
    const min = this.#offsets[this.#head] as number;
    if (Math.abs(min) <= this.toleranceUs) return 0;
    this.reset();
    return min;
  }

  /** The current windowed minimum of arrival − media time, µs (0 before any observation). */
  get delayUs(): number {
    return this.#offsets.length > this.#head ? (this.#offsets[this.#head] as number) : 0;
  }

  /** Forgets the window (after a correction or a new source). */
  reset(): void {
    this.#offsets = [];
    this.#arrivals = [];
    this.#head = 0;
    this.#since = Number.NaN;
  }
}

/** Options of {@link VideoTimeline}. */
export interface VideoTimelineOptions extends ArrivalLockOptions {
  /** A timestamp further than this from arrival re-anchors the source, µs. Default 1 000 000. */
  maxJumpUs?: number;
  /** Smallest step between two output timestamps, µs. Default 1000. */
  minStepUs?: number;
}

/** Maps a video source's `timestampUs` to recording time. */
export class VideoTimeline {
  readonly #maxJumpUs: number;
  readonly #minStepUs: number;
  readonly #lock: ArrivalLock;
  #anchorTs = Number.NaN;
  #anchorAt = 0;
  #lastUs = Number.NEGATIVE_INFINITY;
  #lastTs = Number.NEGATIVE_INFINITY;
  #lastDelayUs = 0;
  /** Frames whose timestamp did not increase (placed by arrival instead). */
  untimedFrames = 0;
  /** Times the timeline was re-anchored because timestamps jumped against arrival. */
  reanchors = 0;
  /** Arrival-lock corrections applied. */
  corrections = 0;

  constructor(options: VideoTimelineOptions = {}) {
    this.#maxJumpUs = options.maxJumpUs ?? 1_000_000;
    this.#minStepUs = options.minStepUs ?? 1000;
    this.#lock = new ArrivalLock(options);
  }

  /** Recording time of the last frame mapped, µs, or -Infinity. */
  get lastUs(): number {
    return this.#lastUs;
  }

  /** Windowed arrival − media delay estimate, µs. */
  get delayUs(): number {
    return this.#lock.delayUs;
  }

  /** Forgets the source's timestamp origin (call when a new source is attached). */
  newSource(): void {
    this.#anchorTs = Number.NaN;
    this.#lastTs = Number.NEGATIVE_INFINITY;
    this.#lock.reset();
  }

  /**
   * Recording time (µs) for a frame with source timestamp `timestampUs` that arrived at `arrivalUs`
   * (recording time). Always greater than the previous result by at least `minStepUs`.
   */
  map(timestampUs: number, arrivalUs: number): number {
    if (Number.isNaN(this.#anchorTs)) {
      this.#anchorTs = timestampUs;
      this.#anchorAt = arrivalUs;
    }
    let us = this.#anchorAt + (timestampUs - this.#anchorTs);
    if (Math.abs(arrivalUs - us) > this.#maxJumpUs) {
      this.reanchors++;
      this.#anchorTs = timestampUs;
      this.#anchorAt = arrivalUs;
      this.#lock.reset();
      us = arrivalUs;
    } else if (!(timestampUs > this.#lastTs) && this.#lastTs !== Number.NEGATIVE_INFINITY) {
      // No usable timestamp (repeated, slightly backwards): place the frame by arrival, keeping the
      // delay seen so far, and continue from there.
      this.untimedFrames++;
      us = Math.max(this.#lastUs + this.#minStepUs, arrivalUs - this.#lastDelayUs);
      this.#anchorTs = timestampUs;
      this.#anchorAt = us;
    } else {
      const correction = this.#lock.observe(arrivalUs, us);
      if (correction !== 0) {
        this.corrections++;
        this.#anchorAt += correction;
        us += correction;
      }
    }
    this.#lastTs = timestampUs;
    if (us < this.#lastUs + this.#minStepUs) us = this.#lastUs + this.#minStepUs;
    this.#lastUs = us;
    this.#lastDelayUs = arrivalUs - us;
    return Math.round(us);
  }

  /** Moves the timeline past `us` (a filler frame was written there). */
  advanceTo(us: number): void {
    if (us > this.#lastUs) this.#lastUs = us;
  }
}

/** What to do with one audio frame to keep the sample count on the clock. */
export interface AudioAdjustment {
  /** Samples per channel of silence to insert before the frame. */
  silence: number;
  /** Samples per channel to drop from the start of the frame. */
  drop: number;
}

/** Options of {@link AudioTimeline}. */
export interface AudioTimelineOptions extends ArrivalLockOptions {
  /** A frame arriving this much later than the samples counted so far is a gap, filled with silence, µs. Default 500 000. */
  gapUs?: number;
}

/** Counts audio samples against the recording clock, detecting gaps and correcting drift. */
export class AudioTimeline {
  readonly #gapUs: number;
  readonly #lock: ArrivalLock;
  #rate = 0;
  /** Recording time where sample 0 at the current rate lies, µs. */
  #originUs = 0;
  #samples = 0;
  #pendingDrop = 0;
  /** The next frame starts a new source or follows filler: align it to its arrival without waiting for the lock. */
  #fresh = false;
  /** Gaps detected (each filled with silence). */
  gaps = 0;
  /** Samples per channel of silence inserted (gaps and drift). */
  silenceSamples = 0;
  /** Samples per channel dropped (the source ran ahead of the clock). */
  droppedSamples = 0;

  constructor(options: AudioTimelineOptions = {}) {
    this.#gapUs = options.gapUs ?? 500_000;
    this.#lock = new ArrivalLock(options);
  }

  /** Sample rate being counted (the first frame's, or the latest change), 0 before any. */
  get sampleRate(): number {
    return this.#rate;
  }

  /** True once the first frame was counted. */
  get started(): boolean {
    return this.#rate !== 0;
  }

  /** Recording time at the end of the samples counted so far, µs (0 before the first frame). */
  get endUs(): number {
    return this.#rate === 0 ? 0 : this.#originUs + (this.#samples * 1e6) / this.#rate;
  }

  /** Windowed arrival − media delay estimate, µs. */
  get delayUs(): number {
    return this.#lock.delayUs;
  }

  /**
   * Accounts for a frame of `samples` per channel at `sampleRate` that arrived at `arrivalUs`, and
   * says how to adjust it. The very first frame is placed so that it ends at its arrival.
   */
  accept(samples: number, sampleRate: number, arrivalUs: number): AudioAdjustment {
    const result: AudioAdjustment = { silence: 0, drop: 0 };
    if (this.#rate === 0) {
      this.#rate = sampleRate;
      this.#originUs = Math.max(0, arrivalUs - (samples * 1e6) / sampleRate);
      this.#fresh = false;
    } else if (sampleRate !== this.#rate) {
      this.#originUs = this.endUs;
      this.#samples = 0;
      this.#rate = sampleRate;
    }
    const rate = this.#rate;
    const frameUs = (samples * 1e6) / rate;
    if (result.silence === 0) {
      const late = arrivalUs - (this.endUs + frameUs);
      if (late > this.#gapUs) {
        this.gaps++;
        result.silence = Math.round((late * rate) / 1e6);
        this.#lock.reset();
      } else if (this.#fresh && late > this.#lock.toleranceUs) {
        // First frame of a new source, or after filler: line it up with its arrival at once.
        result.silence = Math.round((late * rate) / 1e6);
      } else if (this.#fresh && late < -this.#lock.toleranceUs) {
        this.#pendingDrop += Math.round((-late * rate) / 1e6);
      }
    }
    this.#fresh = false;
    this.#samples += result.silence;
    this.silenceSamples += result.silence;
    if (this.#pendingDrop > 0) {
      result.drop = Math.min(this.#pendingDrop, samples);
      this.#pendingDrop -= result.drop;
      this.droppedSamples += result.drop;
    }
    // Observe only once earlier corrections are fully applied, with the samples this frame really adds.
    const correction =
      this.#pendingDrop > 0
        ? 0
        : this.#lock.observe(arrivalUs, this.endUs + ((samples - result.drop) * 1e6) / rate);
    if (correction > 0) {
      const n = Math.round((correction * rate) / 1e6);
      result.silence += n;
      this.silenceSamples += n;
      this.#samples += n;
    } else if (correction < 0) {
      this.#pendingDrop += Math.round((-correction * rate) / 1e6);
    }
    this.#samples += samples - result.drop;
    return result;
  }

  /** Counts `samples` of generated silence (filler while no source delivers) at the current rate. */
  fill(samples: number, sampleRate: number, startUs: number): void {
    if (this.#rate === 0) {
      this.#rate = sampleRate;
      this.#originUs = startUs;
    }
    this.#samples += samples;
    this.#fresh = true;
  }

  /** Forgets the arrival window (a new source was attached); its first frame is aligned to its arrival. */
  newSource(): void {
    this.#lock.reset();
    this.#fresh = true;
  }
}
