/** A WriterFs over the real node:fs that counts calls and lets a test inject faults per call. */

import * as fs from 'node:fs';
import type { WriterFs } from '../../src/index.js';

export type Call = keyof WriterFs;

export interface SpyFs extends WriterFs {
  /** Calls made, in order, with the fd or path they targeted. */
  readonly calls: { name: Call; target: number | string }[];
  count(name: Call, target?: number | string): number;
  /** Runs before the real call; throw from it to inject a fault, return a number to fake a writeSync result. */
  hook: ((name: Call, args: unknown[]) => number | undefined) | null;
}

export function sysError(code: string, syscall: string): Error {
  const errnos: Record<string, number> = { ENOSPC: -28, EIO: -5, EBADF: -9, EAGAIN: -11, EINTR: -4 };
  return Object.assign(new Error(`${code}: injected, ${syscall}`), {
    code,
    syscall,
    errno: errnos[code] ?? -1,
  });
}

export function spyFs(): SpyFs {
  const calls: { name: Call; target: number | string }[] = [];
  const spy: SpyFs = {
    calls,
    hook: null,
    count(name, target) {
      return calls.filter((c) => c.name === name && (target === undefined || c.target === target)).length;
    },
    openSync(path, flags, mode) {
      run('openSync', [path, flags, mode]);
      return fs.openSync(path, flags, mode);
    },
    writeSync(fd, buffer, offset, length, position) {
      const fake = run('writeSync', [fd, buffer, offset, length, position]);
      if (fake !== undefined) return fs.writeSync(fd, buffer, offset, Math.min(length, fake), position);
      return fs.writeSync(fd, buffer, offset, length, position);
    },
    readSync(fd, buffer, offset, length, position) {
      run('readSync', [fd]);
      return fs.readSync(fd, buffer, offset, length, position);
    },
    fsyncSync(fd) {
      run('fsyncSync', [fd]);
      fs.fsyncSync(fd);
    },
    fdatasyncSync(fd) {
      run('fdatasyncSync', [fd]);
      fs.fdatasyncSync(fd);
    },
    ftruncateSync(fd, len) {
      run('ftruncateSync', [fd, len]);
      fs.ftruncateSync(fd, len);
    },
    fstatSync(fd) {
      run('fstatSync', [fd]);
      return fs.fstatSync(fd);
    },
    closeSync(fd) {
      run('closeSync', [fd]);
      fs.closeSync(fd);
    },
    renameSync(from, to) {
      run('renameSync', [to, from]);
      fs.renameSync(from, to);
    },
    unlinkSync(path) {
      run('unlinkSync', [path]);
      fs.unlinkSync(path);
    },
    mkdirSync(path, options) {
      run('mkdirSync', [path]);
      return fs.mkdirSync(path, options);
    },
    readdirSync(path) {
      run('readdirSync', [path]);
      return fs.readdirSync(path);
    },
    readFileSync(path, encoding) {
      run('readFileSync', [path]);
      return fs.readFileSync(path, encoding);
    },
    existsSync(path) {
      return fs.existsSync(path);
    },
  };
  function run(name: Call, args: unknown[]): number | undefined {
    calls.push({ name, target: args[0] as number | string });
    return spy.hook === null ? undefined : spy.hook(name, args);
  }
  return spy;
}
