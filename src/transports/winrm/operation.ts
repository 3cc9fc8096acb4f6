// One abort signal per operation that fires on the caller's signal (reason: Cancelled) or when the
// operation's own time is up (reason: whatever the caller says a timeout means for it).
import { Codes } from '../../errors/catalogue.ts';
import { PushError } from '../../errors/push-error.ts';

export interface Operation {
  signal: AbortSignal;
  dispose(): void;
}

export function cancelled(): PushError {
  return new PushError(Codes.Cancelled);
}

export function operation(parent: AbortSignal | undefined, timeoutMs: number | undefined, onTimeout: () => PushError): Operation {
  const ctrl = new AbortController();
  const onAbort = () => ctrl.abort(cancelled());
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  const timer = timeoutMs !== undefined && timeoutMs > 0 ? setTimeout(() => ctrl.abort(onTimeout()), timeoutMs) : undefined;
  return {
    signal: ctrl.signal,
    dispose: () => {
      if (timer) clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}
