import { describe, expect, it } from "vitest";
import { percentDone } from "../src/progress.js";

// The import's percentage is rows dealt with out of the rows the file holds (estimated from the
// share of the file read), not bytes read: the reader runs ahead of the batches.
describe("percentDone", () => {
  const snapshot = (bytesRead: number, rowsRead: number, rowsDone: number) => ({
    bytesRead,
    rowsRead,
    rowsDone,
    imported: rowsDone,
    skipped: 0,
    batches: 1,
  });

  it("a file read whole while half its rows are sent is 50% done, not 100%", () => {
    expect(percentDone(snapshot(1_000, 200, 100), 1_000)).toBe(50);
  });

  it("scales by the share of the file read", () => {
    expect(percentDone(snapshot(250, 100, 100), 1_000)).toBe(25);
    expect(percentDone(snapshot(500, 100, 50), 1_000)).toBe(25);
  });

  it("is 0 before any row and 100 when every row of the whole file is done", () => {
    expect(percentDone(snapshot(0, 0, 0), 1_000)).toBe(0);
    expect(percentDone(snapshot(1_000, 300, 300), 1_000)).toBe(100);
  });
});
