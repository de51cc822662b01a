/**
 * A minimal ISO base media file format box writer (ISO/IEC 14496-12 §4.2: Box and FullBox).
 * Big-endian fields into one growable, reusable `Uint8Array`; box sizes are patched on `end()`.
 * No Node APIs: runs anywhere a `Uint8Array` does.
 */

/** Writes boxes into a buffer that grows geometrically and is reused after {@link BoxWriter.reset}. */
export class BoxWriter {
  /** The backing buffer; replaced when it grows, so read it after writing. */
  bytes: Uint8Array;
  /** Write position. */
  pos = 0;
  private view: DataView;
  private readonly starts: number[] = [];

  constructor(initialSize = 4096) {
    this.bytes = new Uint8Array(initialSize);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Forgets everything written; keeps the buffer. */
  reset(): void {
    this.pos = 0;
    this.starts.length = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  /** An 8-bit unsigned integer. */
  u8(v: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = v;
  }

  /** A 16-bit big-endian unsigned integer. */
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  /** A 24-bit big-endian unsigned integer (FullBox flags). */
  u24(v: number): void {
    this.ensure(3);
    this.bytes[this.pos] = (v >>> 16) & 0xff;
    this.bytes[this.pos + 1] = (v >>> 8) & 0xff;
    this.bytes[this.pos + 2] = v & 0xff;
    this.pos += 3;
  }

  /** A 32-bit big-endian unsigned integer. */
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  /** A 32-bit big-endian signed integer. */
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  /** A 64-bit unsigned integer from a safe integer (no bitwise arithmetic above 2^32). */
  u64(v: number): void {
    const high = Math.floor(v / 2 ** 32);
    this.u32(high);
    this.u32(v - high * 2 ** 32);
  }

  /** Four ASCII characters. */
  fourcc(code: string): void {
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.bytes[this.pos + i] = code.charCodeAt(i);
    this.pos += 4;
  }

  /** `n` zero bytes. */
  zeros(n: number): void {
    this.ensure(n);
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Bytes as they are. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** Opens a Box: size (patched by {@link end}) and type. */
  box(type: string): void {
    this.starts.push(this.pos);
    this.u32(0); // size, patched by end()
    this.fourcc(type); // type
  }

  /** Opens a FullBox: Box header, then version and flags. */
  fullBox(type: string, version: number, flags: number): void {
    this.box(type);
    this.u8(version); // version
    this.u24(flags); // flags
  }

  /** Closes the innermost open box, writing its size. */
  end(): void {
    const start = this.starts.pop();
    if (start === undefined) throw new Error('@trackrec/muxer internal error: end() without box()');
    this.view.setUint32(start, this.pos - start); // size
  }

  /** Writes a 32-bit value at an earlier position. */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v);
  }

  /** A copy of what was written. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}
