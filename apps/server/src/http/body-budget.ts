/**
 * The bytes of request bodies the server may hold at once, across all requests. A request
 * reserves what it may buffer before its first body byte is read (the declared length, or the
 * body limit when the length is not declared) and gives it back when its response closes, however
 * it ends (answered, aborted, timed out). Without it, many connections each sending a body just
 * under the per-request limit grow the process without bound.
 */
export class BodyBudget {
  #reserved = 0;

  constructor(readonly limit: number) {}

  /** Reserves `bytes`, or returns false (reserving nothing) when that would pass the limit. */
  tryReserve(bytes: number): boolean {
    if (this.#reserved + bytes > this.limit) return false;
    this.#reserved += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#reserved -= bytes;
  }

  /** Bytes reserved now (tests and diagnostics). */
  get reserved(): number {
    return this.#reserved;
  }
}
