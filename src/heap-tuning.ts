// How V8 sizes the daemon's heap, set once at start-up (main.ts), before the daemon allocates much.
import v8 from 'node:v8';

/**
 * The old generation may grow to twice its live size before a full GC (V8's --heap-growing-percent=100)
 * instead of V8's own factor, which for this daemon settles near 1.6: with ~35 MiB live, the gap left is
 * smaller than the young generation, so V8 starts marking again right after each full GC. Under push
 * load that was a mark-compact of the whole heap every few pushes, 43% of the daemon's CPU in `perf`. With
 * the factor fixed at 2, runs of 48 guests went from 55 to 14 mark-compacts and from 43 to 27 ms of daemon
 * CPU per push; in bench:fleet (150 guests) the daemon now spends 24-29 ms per push, the minimal ssh2
 * push's own process 26-30 (README "Performance"). It lets up to the live size again of garbage build up
 * before a collection: the heap V8 commits grew by about 1 MiB, RSS by about 10 MiB.
 */
export const HEAP_GROWING_PERCENT = 100;

/** Applies HEAP_GROWING_PERCENT unless the node command line already sets --heap-growing-percent. */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): 'applied' | 'command line' {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return 'command line';
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return 'applied';
}
