// How V8 sizes the daemon's heap, set once at start-up (main.ts), before the daemon allocates much.
import v8 from 'node:v8';

/**
 * The old generation may grow to twice its live size before a full GC (V8's --heap-growing-percent=100)
 * instead of V8's own factor, which for this daemon settles near 1.6: with ~35 MiB live, the gap left is
 * smaller than the young generation, so V8 starts marking again right after each full GC. Under push
 * load that was a mark-compact of the whole heap every few pushes, ~40% of the daemon's CPU (perf), and
 * the daemon's CPU per push was ~1.7x the minimal ssh2 push's; with the factor fixed at 2, ~1.2x
 * (bench:fleet and `.scratch`-style runs, see README "Performance"). It costs at most the same again of
 * garbage before a collection, and the heap it commits stays within a few MiB of before.
 */
export const HEAP_GROWING_PERCENT = 100;

/** Applies HEAP_GROWING_PERCENT unless the node command line already sets --heap-growing-percent. */
export function tuneHeapGrowth(execArgv: readonly string[] = process.execArgv): 'applied' | 'command line' {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return 'command line';
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return 'applied';
}
