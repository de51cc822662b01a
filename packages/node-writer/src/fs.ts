/**
 * The slice of `node:fs` the writers use, so tests can inject faults (partial writes, EAGAIN, EIO)
 * while the real file system does the rest; and the syncs, whole reads and durable cuts built on it
 * (shared by the sinks and the repairs), which report faults as `WriterError`s naming the path.
 */

import * as nodeFs from 'node:fs';
import { toWriterError, WriterError } from './errors.js';

/** What {@link WriterFs.fstatSync} must return. */
export interface WriterStats {
  size: number;
  isFile(): boolean;
}

/**
 * Synchronous file-system calls the sinks and repair functions make. `node:fs` satisfies it; wrap it to
 * inject faults. `fdatasyncSync` is optional: without it, `fsyncSync` is used.
 */
export interface WriterFs {
  openSync(path: string, flags: string, mode?: number): number;
  /** Writes at the current file position when `position` is null; may write fewer bytes than asked. */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fdatasyncSync?(fd: number): void;
  ftruncateSync(fd: number, len: number): void;
  fstatSync(fd: number): WriterStats;
  closeSync(fd: number): void;
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, options: { recursive: true }): unknown;
  readdirSync(path: string): string[];
  readFileSync(path: string, encoding: 'utf8'): string;
  existsSync(path: string): boolean;
}

/** The real file system. */
export const defaultFs: WriterFs = nodeFs;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` milliseconds (EAGAIN back-off in a synchronous writer). @internal */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Flushes a file's data (and the metadata needed to read it back) to the device. @internal */
export function datasync(fs: WriterFs, fd: number): void {
  if (fs.fdatasyncSync !== undefined) fs.fdatasyncSync(fd);
  else fs.fsyncSync(fd);
}

/**
 * Makes a directory's entries (a created or renamed file) durable. Windows cannot open a directory,
 * and NTFS journals renames itself, so this is a no-op there. @internal
 */
export function syncDirectory(fs: WriterFs, dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function open(fs: WriterFs, path: string, flags: 'r' | 'r+'): number {
  try {
    return fs.openSync(path, flags);
  } catch (err) {
    throw toWriterError(err, path, 'open');
  }
}

/** Fills `into` from `position` of `fd`, looping over short reads; a file that ends first is an `EIO`. @internal */
export function readFully(fs: WriterFs, fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.byteLength) {
    let n: number;
    try {
      n = fs.readSync(fd, into, done, into.byteLength - done, position + done);
    } catch (err) {
      throw toWriterError(err, path, 'read');
    }
    if (n <= 0) {
      // Shorter than its own header or index says, or shrank while being read.
      throw new WriterError(`${path} ends before byte ${position + into.byteLength}`, 'EIO', path, {
        syscall: 'read',
      });
    }
    done += n;
  }
}

/** Reads the first `length` bytes of `path`, or all of it (its size when opened). @internal */
export function readFileBytes(fs: WriterFs, path: string, length?: number): Uint8Array {
  const fd = open(fs, path, 'r');
  try {
    const bytes = new Uint8Array(length ?? fs.fstatSync(fd).size);
    readFully(fs, fd, bytes, 0, path);
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** What {@link cutFile} changed: the shape of the public TS and MP4 repair reports. @internal */
export interface FileCut {
  path: string;
  originalBytes: number;
  repairedBytes: number;
  bytesTruncated: number;
}

/**
 * Opens `path` for update, lets `keepLength(fd, size)` read it and say how many leading bytes are whole,
 * and cuts off the rest durably. A file with nothing to cut is not written. @internal
 */
export function cutFile(
  fs: WriterFs,
  path: string,
  keepLength: (fd: number, size: number) => number,
): FileCut {
  const fd = open(fs, path, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const keep = keepLength(fd, size);
    if (keep < size) truncateFd(fs, fd, keep, path);
    return { path, originalBytes: size, repairedBytes: keep, bytesTruncated: size - keep };
  } finally {
    fs.closeSync(fd);
  }
}

/** Cuts `path` to `length` bytes durably. @internal */
export function truncateDurably(fs: WriterFs, path: string, length: number): void {
  const fd = open(fs, path, 'r+');
  try {
    truncateFd(fs, fd, length, path);
  } finally {
    fs.closeSync(fd);
  }
}

/** ftruncate, then fdatasync: the cut is on the device before a repaired file is listed or reported. */
function truncateFd(fs: WriterFs, fd: number, length: number, path: string): void {
  try {
    fs.ftruncateSync(fd, length);
    datasync(fs, fd);
  } catch (err) {
    throw toWriterError(err, path, 'ftruncate');
  }
}
