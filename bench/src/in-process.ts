/** Calls `fn` back to back for `milliseconds` and returns calls per second. */
export async function callsPerSecond(fn: () => unknown, milliseconds: number): Promise<number> {
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < milliseconds) {
    // 64 calls between clock reads keep the timer out of the measurement.
    for (let i = 0; i < 64; i++) await fn();
    calls += 64;
  }
  return (calls * 1000) / (performance.now() - start);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs two workloads side by side, alternating, so the machine's noise hits both alike; returns
 * the median calls/s of each.
 */
export async function sideBySide(
  a: () => unknown,
  b: () => unknown,
  options: { rounds: number; milliseconds: number },
): Promise<{ a: number; b: number }> {
  const ratesA: number[] = [];
  const ratesB: number[] = [];
  await callsPerSecond(a, options.milliseconds / 2);
  await callsPerSecond(b, options.milliseconds / 2);
  for (let round = 0; round < options.rounds; round++) {
    ratesA.push(await callsPerSecond(a, options.milliseconds));
    ratesB.push(await callsPerSecond(b, options.milliseconds));
  }
  return { a: median(ratesA), b: median(ratesB) };
}
