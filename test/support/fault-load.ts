import { performance } from 'node:perf_hooks';

/** What a scenario drives: any pool (Spillway or a peer) behind the same four calls. */
export interface LoadTarget {
  name: string;
  /** One read (SELECT 1). */
  select(): Promise<unknown>;
  /** One acknowledged write of `id` into the scenario's table. */
  insert(id: number): Promise<unknown>;
  close(): Promise<void>;
}

export interface LoadOptions {
  callers: number;
  /** Steady traffic before the fault. */
  warmupMs: number;
  /** Start the fault; resolves when it is in place. */
  startFault(): Promise<void> | void;
  faultMs: number;
  /** End the fault (pass traffic again, restart the server...). */
  endFault(): Promise<void> | void;
  /** Traffic kept up after the fault ends, to see recovery. */
  afterMs: number;
  /** Calls still pending this long after traffic stops are counted as hung (never returned). */
  hangGraceMs: number;
  /**
   * Stop traffic and let every call finish before the fault, resuming when it ends: the fault then
   * hits idle connections only (does the pool hand out dead ones afterwards?).
   */
  quietFault?: boolean;
}

export interface LoadResult {
  calls: number;
  ok: number;
  /** Errors by code (or by message when the error has no code). */
  errors: Record<string, number>;
  longestMs: number;
  /** Calls that had not returned `hangGraceMs` after traffic stopped. */
  hung: number;
  /** From the end of the fault to the first call that succeeded after it (undefined: never). */
  recoverMs: number | undefined;
  /** Calls started after the fault ended that failed with a connection-level error. */
  failuresAfterFault: number;
  /** Ids whose INSERT was acknowledged. */
  acked: number[];
}

function codeOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  return String(e?.message ?? error).slice(0, 60);
}

/**
 * `callers` loops doing SELECT 1 plus one writer inserting increasing ids, through a fault: records
 * every call's duration and outcome, which writes were acknowledged, and when service came back.
 */
export async function runLoad(target: LoadTarget, options: LoadOptions): Promise<LoadResult> {
  const result: LoadResult = { calls: 0, ok: 0, errors: {}, longestMs: 0, hung: 0, recoverMs: undefined, failuresAfterFault: 0, acked: [] };
  let running = true;
  let quiet = false;
  let faultEndedAt = Number.POSITIVE_INFINITY;
  /** Start time of every call in flight, by call number. */
  const pending = new Map<number, number>();
  let nextCall = 0;

  const call = async (work: () => Promise<unknown>): Promise<boolean> => {
    const id = nextCall++;
    const started = performance.now();
    pending.set(id, started);
    result.calls++;
    try {
      await work();
      result.ok++;
      const done = performance.now();
      if (done >= faultEndedAt && result.recoverMs === undefined) result.recoverMs = done - faultEndedAt;
      return true;
    } catch (error) {
      const code = codeOf(error);
      result.errors[code] = (result.errors[code] ?? 0) + 1;
      if (started >= faultEndedAt) result.failuresAfterFault++;
      return false;
    } finally {
      pending.delete(id);
      result.longestMs = Math.max(result.longestMs, performance.now() - started);
    }
  };

  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const loops: Promise<void>[] = [];
  for (let i = 0; i < options.callers; i++) {
    loops.push(
      (async () => {
        while (running) {
          if (quiet) await pause(5);
          else if (!(await call(() => target.select()))) await pause(20);
        }
      })(),
    );
  }
  loops.push(
    (async () => {
      let id = 1;
      while (running) {
        if (quiet) {
          await pause(5);
          continue;
        }
        const mine = id++;
        if (await call(() => target.insert(mine))) result.acked.push(mine);
        else await pause(20);
      }
    })(),
  );

  await pause(options.warmupMs);
  if (options.quietFault) {
    quiet = true;
    while (pending.size > 0) await pause(5);
    await pause(50);
  }
  await options.startFault();
  await pause(options.faultMs);
  await options.endFault();
  faultEndedAt = performance.now();
  quiet = false;
  await pause(options.afterMs);
  running = false;
  const settled = Promise.all(loops).then(() => true);
  const finished = await Promise.race([settled, pause(options.hangGraceMs).then(() => false)]);
  if (!finished) {
    result.hung = pending.size;
    const now = performance.now();
    for (const started of pending.values()) result.longestMs = Math.max(result.longestMs, now - started);
  }
  return result;
}
