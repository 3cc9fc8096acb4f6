import type { JobContext } from './context.ts';

/** How a job reaches one kind of guest: open a connection, remove a folder tree, close. */
export interface GuestAccess<G> {
  connect(signal?: AbortSignal): Promise<G>;
  removeTree(guest: G, path: string): Promise<void>;
  close(guest: G): Promise<void>;
  /** Milliseconds a clean-up connection may take (it is not bound to the job's signal). */
  cleanupTimeoutMs: number;
}

/** A job's connection to one guest, opened on first use, closed (and the staging folder cleaned) by withGuestSession. */
export interface GuestSession<G> {
  connect(): Promise<G>;
  readonly guest: G;
  /** The job's last command removed the staging folder itself: no separate clean-up command. */
  stageRemoved(): void;
}

/**
 * Removes the staging folder. When the job's connection is gone (torn down by a cancel, or dropped), it
 * cleans up over a fresh connection that is not bound to the job's signal.
 */
export async function removeStaging<G>(ctx: JobContext, access: GuestAccess<G>, guest: G | undefined, stage: string): Promise<void> {
  if (!guest) return; // never connected: nothing was created on the machine
  if (!ctx.signal.aborted) {
    try {
      await access.removeTree(guest, stage);
      ctx.log(`removed ${stage}`);
      return;
    } catch (e) {
      ctx.log(`removing ${stage} over the job's connection failed (${(e as Error).message}); trying a new connection`);
    }
  }
  try {
    const fresh = await access.connect(AbortSignal.timeout(access.cleanupTimeoutMs));
    try { await access.removeTree(fresh, stage); } finally { await access.close(fresh); }
    ctx.log(`removed ${stage}`);
  } catch (e) {
    ctx.log(`could not remove the staging folder ${stage}: ${(e as Error).message}`);
  }
}

/**
 * Runs a job's body against one guest: the connection is opened on demand and always closed; the
 * staging folder (when the job uses one) is removed at the end, whatever happened, except when the
 * failure will be retried (then the next attempt finds the copied installer and skips the copy).
 */
export async function withGuestSession<G, T>(ctx: JobContext, access: GuestAccess<G>, stage: string | null, body: (session: GuestSession<G>) => Promise<T>): Promise<T> {
  let guest: G | undefined;
  let removed = false;
  const session: GuestSession<G> = {
    async connect() {
      guest ??= await access.connect();
      return guest;
    },
    get guest() {
      if (guest === undefined) throw new Error('not connected');
      return guest;
    },
    stageRemoved() {
      removed = true;
      if (stage) ctx.log(`removed ${stage}`);
    },
  };
  try {
    const result = await body(session);
    if (stage && !removed) await removeStaging(ctx, access, guest, stage);
    return result;
  } catch (e) {
    if (stage && !removed) {
      if (ctx.willRetry(e)) ctx.log(`keeping ${stage} for the next attempt (the copy will be skipped if the installer is intact)`);
      else await removeStaging(ctx, access, guest, stage);
    }
    throw e;
  } finally {
    if (guest !== undefined) await access.close(guest);
  }
}
