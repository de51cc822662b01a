/**
 * The demo's synthetic media: a moving test picture (scrolling colour bars and a bouncing white
 * square, I420) and a tone (440 Hz with an 880 Hz beep at the start of every second, 16-bit PCM).
 * Colour values are BT.601 limited range (ITU-R BT.601), as x264 expects by default.
 */

/** BT.601 limited-range Y, U, V of the eight 75 % colour bars (white, yellow, cyan, green, magenta, red, blue, black). */
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [180, 128, 128],
  [162, 44, 142],
  [131, 156, 44],
  [112, 72, 58],
  [84, 184, 198],
  [65, 100, 212],
  [35, 212, 114],
  [16, 128, 128],
];

/** Generates I420 pictures of a fixed size; each call to {@link TestPicture.frame} is one picture. */
export class TestPicture {
  /** Width in pixels (even). */
  readonly width: number;
  /** Height in pixels (even). */
  readonly height: number;
  // Bar rows twice as wide as the picture: a scrolled row is one subarray copy.
  readonly #rowY: Uint8Array;
  readonly #rowU: Uint8Array;
  readonly #rowV: Uint8Array;

  /**
   * @param width picture width, even, ≥ 16.
   * @param height picture height, even, ≥ 16.
   */
  constructor(width: number, height: number) {
    if (!Number.isInteger(width) || width < 16 || width % 2 !== 0) {
      throw new RangeError('width must be an even integer ≥ 16');
    }
    if (!Number.isInteger(height) || height < 16 || height % 2 !== 0) {
      throw new RangeError('height must be an even integer ≥ 16');
    }
    this.width = width;
    this.height = height;
    const cw = width / 2;
    this.#rowY = new Uint8Array(width * 2);
    this.#rowU = new Uint8Array(cw * 2);
    this.#rowV = new Uint8Array(cw * 2);
    for (let x = 0; x < width * 2; x++) {
      const bar = BARS[Math.floor(((x % width) * BARS.length) / width)]!;
      this.#rowY[x] = bar[0];
      if (x % 2 === 0) {
        this.#rowU[x / 2] = bar[1];
        this.#rowV[x / 2] = bar[2];
      }
    }
  }

  /** Picture number `n` as a new I420 buffer (Y plane, then U, then V). */
  frame(n: number): Uint8Array {
    const { width: w, height: h } = this;
    const cw = w / 2;
    const ch = h / 2;
    const data = new Uint8Array(w * h + 2 * cw * ch);
    const shift = (n * 4) % w; // 4 px per picture
    const y0 = this.#rowY.subarray(shift, shift + w);
    const u0 = this.#rowU.subarray(shift / 2, shift / 2 + cw);
    const v0 = this.#rowV.subarray(shift / 2, shift / 2 + cw);
    for (let y = 0; y < h; y++) data.set(y0, y * w);
    const uBase = w * h;
    const vBase = uBase + cw * ch;
    for (let y = 0; y < ch; y++) {
      data.set(u0, uBase + y * cw);
      data.set(v0, vBase + y * cw);
    }
    // A white square bouncing across the picture, chroma neutral.
    const side = Math.max(8, Math.floor(Math.min(w, h) / 6)) & ~1;
    const bx = bounce(n * 6, w - side) & ~1;
    const by = bounce(n * 4, h - side) & ~1;
    for (let y = by; y < by + side; y++) data.fill(235, y * w + bx, y * w + bx + side);
    for (let y = by / 2; y < (by + side) / 2; y++) {
      data.fill(128, uBase + y * cw + bx / 2, uBase + y * cw + (bx + side) / 2);
      data.fill(128, vBase + y * cw + bx / 2, vBase + y * cw + (bx + side) / 2);
    }
    return data;
  }
}

/** Position `t` folded back and forth over `0..span`. */
function bounce(t: number, span: number): number {
  if (span <= 0) return 0;
  const p = t % (2 * span);
  return p <= span ? p : 2 * span - p;
}

/** Generates interleaved 16-bit PCM: a 440 Hz tone, 880 Hz for the first 100 ms of every second. */
export class TestTone {
  /** Samples per second per channel. */
  readonly sampleRate: number;
  /** Interleaved channels. */
  readonly channels: number;
  #phase = 0;
  #sample = 0;

  /**
   * @param sampleRate samples per second per channel.
   * @param channels 1 or 2.
   */
  constructor(sampleRate: number, channels: number) {
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /** The next `samples` samples per channel, interleaved. */
  next(samples: number): Int16Array {
    const out = new Int16Array(samples * this.channels);
    for (let i = 0; i < samples; i++) {
      const beep = this.#sample % this.sampleRate < this.sampleRate / 10;
      this.#phase += (2 * Math.PI * (beep ? 880 : 440)) / this.sampleRate;
      if (this.#phase > 2 * Math.PI) this.#phase -= 2 * Math.PI;
      const v = Math.round(8000 * Math.sin(this.#phase)); // about −12 dBFS
      for (let c = 0; c < this.channels; c++) out[i * this.channels + c] = v;
      this.#sample++;
    }
    return out;
  }
}
