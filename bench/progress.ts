const started = performance.now();

/** One progress line on stderr, stamped with the seconds since the run began, so a slow phase shows where it is. */
export function progress(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}
