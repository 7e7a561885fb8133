import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// SPEC §6: "No input, however shaped, may grow the server's memory for good." Metadata nested a
// few thousand levels used to overflow zod's recursive z.json(); the RangeError left ~140 KB per
// request in zod's parse memoizer for good, so one key could exhaust the server for every tenant.
// A real server in a child process (started with --expose-gc, so the heap is its own) takes 3,000
// such bodies (1,000 on the slower stock adapter); its heap after forced collections must stay flat. Before the fix this grew by
// ~400 MB (or the child ran out of its 512 MB heap).

const SERVER_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = "test/security/deep-json-soak.entry.ts";
/** The stock adapter is ~5× slower per request; 1,000 of them still tell a leak (~140 MB) from noise. */
const REQUESTS = { fast: 3_000, stock: 1_000 } as const;
/** Generous: noise from connection buffers and V8 is a few MB; the leak was ~140 KB × 3,000. */
const MAX_GROWTH_BYTES = 20 * 1024 * 1024;

interface SoakReport {
  handler: string;
  requests: number;
  growthBytes: number;
  statuses: Record<string, number>;
  sample: string;
  storedRows: number;
}

function runSoak(handler: keyof typeof REQUESTS): Promise<SoakReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--expose-gc",
        "--max-old-space-size=512",
        "--conditions=source",
        "--import",
        "tsx",
        ENTRY,
        handler,
        String(REQUESTS[handler]),
      ],
      { cwd: SERVER_ROOT, env: { ...process.env, LOG_LEVEL: "silent" }, maxBuffer: 1024 * 1024, timeout: 240_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`soak child failed (${String(error.message).slice(0, 200)}): ${stderr.slice(-2000)}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as SoakReport);
      },
    );
  });
}

describe("deeply nested metadata does not grow the heap (SPEC §6)", () => {
  it.each(["fast", "stock"] as const)(
    "%s handler: a stream of create bodies nested 3,000–10,000 levels gets 400 naming metadata, stores nothing, and leaves the heap flat",
    async (handler) => {
      const report = await runSoak(handler);
      expect(report.statuses).toEqual({ 400: REQUESTS[handler] + 200 });
      expect(JSON.parse(report.sample)).toMatchObject({
        error: { data: { code: "BAD_REQUEST", fieldErrors: { metadata: ["metadata must be at most 8 levels deep"] } } },
      });
      expect(report.storedRows).toBe(0);
      console.log(
        `[soak] ${handler}: heap growth ${(report.growthBytes / 1024 / 1024).toFixed(1)} MB over ${REQUESTS[handler]} requests`,
      );
      expect(report.growthBytes).toBeLessThan(MAX_GROWTH_BYTES);
    },
    300_000,
  );
});
