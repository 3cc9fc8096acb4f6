// Runs tasks one at a time (one WinRM connection carries one request at a time), with a wait in the
// queue that an AbortSignal can end.

export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  /** Runs `task` after every task queued before it; rejects with the signal's reason if aborted first. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => { release = resolve; });
    // The next task waits for the previous one and this one, even if this one gives up waiting.
    this.tail = previous.then(() => mine);
    try {
      await waitFor(previous, signal);
      return await task();
    } finally {
      release();
    }
  }
}

function waitFor(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => { signal.removeEventListener('abort', onAbort); resolve(); });
  });
}
