/**
 * Faults of the writers. Wrong options throw `TypeError`/`RangeError` at the public boundary; what goes
 * wrong on disk is one of the {@link WriterError} subclasses below, never swallowed.
 */

/** Base class of every fault a sink reports. */
export class WriterError extends Error {
  override readonly name: string = 'WriterError';
  /**
   * Machine-readable reason: the system error code (`'ENOSPC'`, `'EIO'`, `'EBADF'`…) for I/O faults,
   * `'ERR_SINK_CLOSED'`, `'ERR_SINK_FAILED'` or `'ERR_SINK_BUSY'` for misuse.
   */
  readonly code: string;
  /** File the fault is about. */
  readonly path: string;
  /** Negative errno from libuv when the fault came from the system, else undefined. */
  readonly errno: number | undefined;
  /** System call that failed (`'write'`, `'fdatasync'`, `'rename'`…), when one did. */
  readonly syscall: string | undefined;
  /**
   * When cutting the file back after a partial write failed too, that second fault. The file may then
   * end inside a chunk; `repairTs` fixes it.
   */
  readonly truncateError: unknown;

  constructor(message: string, code: string, path: string, extra: WriterErrorDetails = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.path = path;
    this.errno = extra.errno;
    this.syscall = extra.syscall;
    this.truncateError = extra.truncateError;
  }
}

/** Optional details of a {@link WriterError}. */
export interface WriterErrorDetails {
  /** Negative errno from libuv. */
  errno?: number | undefined;
  /** Failed system call. */
  syscall?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
  /** A second fault while cutting the file back. */
  truncateError?: unknown;
}

/**
 * The device has no room left (`ENOSPC`, or `EDQUOT` for a full quota). Every whole chunk written
 * before stays on disk; the file was cut back to the end of the last whole chunk.
 */
export class DiskFullError extends WriterError {
  override readonly name = 'DiskFullError';
}

/**
 * Any other I/O fault (`EIO`, `EBADF`, `EAGAIN` after the retries ran out…). Like {@link DiskFullError},
 * the file was cut back to the last whole chunk when part of a chunk had reached it.
 */
export class WriteError extends WriterError {
  override readonly name = 'WriteError';
}

/**
 * The sink refuses the call: it was closed (`code` `'ERR_SINK_CLOSED'`) or an earlier fault failed it
 * (`'ERR_SINK_FAILED'`, the earlier error is the `cause`).
 */
export class SinkClosedError extends WriterError {
  override readonly name = 'SinkClosedError';
}

/**
 * Single-writer guard: a call re-entered a sink that is still inside a call (for example from a hook or an
 * injected fs), or a second sink tried to open a path this process already writes.
 */
export class SinkBusyError extends WriterError {
  override readonly name = 'SinkBusyError';
}

interface SystemErrorLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  message?: unknown;
}

/**
 * Turns a thrown system error into a {@link DiskFullError} or {@link WriteError} naming `path`.
 * A {@link WriterError} passes through unchanged.
 * @internal
 */
export function toWriterError(
  err: unknown,
  path: string,
  syscall: string,
  extra: { truncateError?: unknown; detail?: string } = {},
): WriterError {
  if (err instanceof WriterError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SystemErrorLike;
  const code = typeof e.code === 'string' ? e.code : 'EUNKNOWN';
  const errno = typeof e.errno === 'number' ? e.errno : undefined;
  const call = typeof e.syscall === 'string' ? e.syscall : syscall;
  const reason = typeof e.message === 'string' ? e.message : String(err);
  const detail = extra.detail === undefined ? '' : ` (${extra.detail})`;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DiskFullError(`no space left writing ${path}: ${reason}${detail}`, code, path, {
      errno,
      syscall: call,
      cause: err,
      truncateError: extra.truncateError,
    });
  }
  return new WriteError(`${call} failed on ${path}: ${reason}${detail}`, code, path, {
    errno,
    syscall: call,
    cause: err,
    truncateError: extra.truncateError,
  });
}
