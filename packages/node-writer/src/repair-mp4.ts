/**
 * Crash repair of a fragmented MP4 (ISO/IEC 14496-12 §8.8): each fragment reaches the disk in one write,
 * but a kill or power cut can leave the last `moof`+`mdat` torn, and FFmpeg's mov demuxer then refuses
 * the whole file. Truncating to the last whole fragment makes it whole again. The box walk is injected
 * (`completeFragmentedLength` from `@trackrec/muxer/mp4`), so this package never imports the muxer.
 */

import { resolve } from 'node:path';
import { toWriterError, WriterError } from './errors.js';
import { datasync, defaultFs, type WriterFs } from './fs.js';

/**
 * Length of the longest prefix of a fragmented MP4 made of its init segment and whole fragments (0 when
 * the init segment is incomplete). `completeFragmentedLength` from `@trackrec/muxer/mp4` has this shape.
 */
export type CompleteFragmentedLength = (bytes: Uint8Array) => number;

/** Options of {@link repairMp4}. */
export interface RepairMp4Options {
  /** File-system calls; default `node:fs`. */
  fs?: WriterFs;
}

/** What {@link repairMp4} changed. */
export interface Mp4RepairReport {
  /** Absolute path of the file. */
  path: string;
  /** Size before. */
  originalBytes: number;
  /** Size after. */
  repairedBytes: number;
  /** `originalBytes - repairedBytes`. */
  bytesTruncated: number;
}

/**
 * Makes a crashed fragmented MP4 whole: truncates it to the end of its last complete fragment (as
 * `completeFragmentedLength` decides) and fsyncs it. A whole file is left untouched, so running it on
 * every start is safe. The file is read into memory once (the box walk needs it from its start).
 * @throws {TypeError} for bad arguments or a parser result out of range; a `WriterError` for I/O faults.
 */
export function repairMp4(
  path: string,
  completeFragmentedLength: CompleteFragmentedLength,
  options: RepairMp4Options = {},
): Mp4RepairReport {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError('path must be a non-empty string');
  if (typeof completeFragmentedLength !== 'function') {
    throw new TypeError('completeFragmentedLength must be a function');
  }
  const fs = options.fs ?? defaultFs;
  const abs = resolve(path);
  let fd: number;
  try {
    fd = fs.openSync(abs, 'r+');
  } catch (err) {
    throw toWriterError(err, abs, 'open');
  }
  try {
    const size = fs.fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = fs.readSync(fd, bytes, done, size - done, done);
      } catch (err) {
        throw toWriterError(err, abs, 'read');
      }
      if (n <= 0) throw new WriterError(`${abs} shrank while being read`, 'EIO', abs, { syscall: 'read' });
      done += n;
    }
    const keep = completeFragmentedLength(bytes);
    if (!Number.isInteger(keep) || keep < 0 || keep > size) {
      throw new TypeError(`completeFragmentedLength returned ${String(keep)} for ${size} bytes`);
    }
    if (keep < size) {
      try {
        fs.ftruncateSync(fd, keep);
        datasync(fs, fd);
      } catch (err) {
        throw toWriterError(err, abs, 'ftruncate');
      }
    }
    return { path: abs, originalBytes: size, repairedBytes: keep, bytesTruncated: size - keep };
  } finally {
    fs.closeSync(fd);
  }
}
