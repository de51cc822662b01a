/**
 * Runs async jobs one at a time in call order. FFmpeg contexts are not thread-safe and a job may be
 * awaiting the libuv thread pool, so every call that touches a context goes through here.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Jobs queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Queues `job` after every earlier job; its result or error is the returned promise's. */
  run<T>(job: () => T | Promise<T>): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(job).finally(() => {
      this.#pending--;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
