/**
 * A standard progressive MP4 (ISO/IEC 14496-12: `ftyp`, `moov`, then one `mdat`) written from a
 * fragmented recording on disk without re-encoding: the header built by the muxer
 * (`buildProgressiveHeader` of `@trackrec/muxer/mp4`), then every fragment's `mdat` payload copied in
 * order. The fragmented file is only read; the new file is written under a temp name, fsynced and
 * renamed into place, so whatever fails or crashes on the way, the fragmented recording stays whole.
 */

import { basename, dirname, resolve } from 'node:path';
import { toWriterError } from './errors.js';
import { FileSink } from './file-sink.js';
import { defaultFs, readFully, syncDirectory, type WriterFs } from './fs.js';

/**
 * Where the media lies in the fragmented file (structurally the muxer's `Fmp4SampleTable`): per
 * fragment, the offset of its `mdat` payload from the first byte of the file's init segment, and its size.
 */
export interface FragmentLayout {
  /** Number of fragments. */
  readonly fragmentCount: number;
  /** Per fragment: offset of its `mdat` payload in the fragmented file. */
  readonly fragmentPayloadOffsets: ArrayLike<number>;
  /** Per fragment: size of its `mdat` payload. */
  readonly fragmentPayloadSizes: ArrayLike<number>;
  /** Sum of the payload sizes. */
  readonly mdatPayloadSize: number;
}

/** Options of {@link writeProgressiveMp4}. */
export interface WriteProgressiveOptions {
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
  /** Copy buffer size, bytes. Default 1 MiB. */
  bufferBytes?: number;
  /** fdatasync the new file and fsync the directory after the rename. Default true. */
  durable?: boolean;
}

/** What {@link writeProgressiveMp4} wrote. */
export interface ProgressiveReport {
  /** Absolute path of the progressive file. */
  path: string;
  /** Its size. */
  bytes: number;
}

/**
 * Writes the progressive MP4 made of `header` (`ftyp`+`moov`+`mdat` box header) and the payloads that
 * `layout` locates in `fragmentedPath`, to `outPath`: first as `.{name}.tmp` beside it, fsynced, then
 * renamed over `outPath`. `outPath` may be `fragmentedPath` itself: the fragmented file is replaced only
 * once the progressive one is complete on disk. On any failure the temp file is removed, nothing else
 * changes, and the error is thrown.
 * @throws {TypeError | RangeError} for bad arguments; a `WriterError` for I/O faults or a fragmented
 *   file shorter than the layout says.
 */
export function writeProgressiveMp4(
  fragmentedPath: string,
  header: Uint8Array,
  layout: FragmentLayout,
  outPath: string,
  options: WriteProgressiveOptions = {},
): ProgressiveReport {
  if (typeof fragmentedPath !== 'string' || fragmentedPath.length === 0) {
    throw new TypeError('fragmentedPath must be a non-empty string');
  }
  if (typeof outPath !== 'string' || outPath.length === 0)
    throw new TypeError('outPath must be a non-empty string');
  if (!(header instanceof Uint8Array) || header.byteLength < 16) {
    throw new TypeError('header must be the Uint8Array from buildProgressiveHeader');
  }
  checkLayout(layout);
  const bufferBytes = options.bufferBytes ?? 1 << 20;
  if (!Number.isInteger(bufferBytes) || bufferBytes < 4096) {
    throw new RangeError('options.bufferBytes must be an integer ≥ 4096');
  }
  const fs = options.fs ?? defaultFs;
  const durable = options.durable ?? true;
  const source = resolve(fragmentedPath);
  const target = resolve(outPath);
  const dir = dirname(target);
  const temp = resolve(dir, `.${basename(target)}.tmp`);

  let fd: number;
  try {
    fd = fs.openSync(source, 'r');
  } catch (err) {
    throw toWriterError(err, source, 'open');
  }
  let sink: FileSink | null = null;
  try {
    sink = new FileSink(temp, { fs, fsync: 'none' });
    sink.write(header);
    const buffer = new Uint8Array(bufferBytes);
    for (let i = 0; i < layout.fragmentCount; i++) {
      let at = layout.fragmentPayloadOffsets[i] as number;
      let left = layout.fragmentPayloadSizes[i] as number;
      while (left > 0) {
        const n = Math.min(left, bufferBytes);
        readFully(fs, fd, buffer.subarray(0, n), at, source);
        sink.write(buffer.subarray(0, n));
        at += n;
        left -= n;
      }
    }
    if (durable) sink.sync();
    sink.close();
    sink = null;
    try {
      fs.renameSync(temp, target);
    } catch (err) {
      throw toWriterError(err, target, 'rename');
    }
  } catch (err) {
    if (sink !== null) {
      try {
        sink.close();
      } catch {
        // The fault being thrown says more.
      }
    }
    try {
      if (fs.existsSync(temp)) fs.unlinkSync(temp);
    } catch {
      // Best effort: a leftover dot-file never replaces the recording.
    }
    throw err;
  } finally {
    fs.closeSync(fd);
  }
  if (durable) {
    try {
      syncDirectory(fs, dir);
    } catch (err) {
      throw toWriterError(err, dir, 'fsync');
    }
  }
  return { path: target, bytes: header.byteLength + layout.mdatPayloadSize };
}

function checkLayout(layout: FragmentLayout): void {
  if (typeof layout !== 'object' || layout === null) throw new TypeError('layout must be an object');
  const n = layout.fragmentCount;
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError('layout.fragmentCount must be a non-negative integer');
  if (layout.fragmentPayloadOffsets.length < n || layout.fragmentPayloadSizes.length < n) {
    throw new RangeError('layout offsets and sizes must cover layout.fragmentCount fragments');
  }
  let total = 0;
  for (let i = 0; i < n; i++) {
    const at = layout.fragmentPayloadOffsets[i] as number;
    const size = layout.fragmentPayloadSizes[i] as number;
    if (!Number.isInteger(at) || at < 0 || !Number.isInteger(size) || size < 0) {
      throw new RangeError(`layout fragment ${i} has an invalid offset or size`);
    }
    total += size;
  }
  if (total !== layout.mdatPayloadSize) {
    throw new RangeError(
      `layout.mdatPayloadSize ${layout.mdatPayloadSize} is not the sum of the sizes (${total})`,
    );
  }
}
