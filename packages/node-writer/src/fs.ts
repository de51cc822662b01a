/**
 * The slice of `node:fs` the writers use, so tests can inject faults (partial writes, EAGAIN, EIO)
 * while the real file system does the rest.
 */

import * as nodeFs from 'node:fs';

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
