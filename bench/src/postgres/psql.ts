import { spawn } from "node:child_process";
import type { Readable } from "node:stream";

/**
 * PostgreSQL through `psql`, which comes with the server: the bench needs a few statements and one
 * bulk COPY, not a driver of its own. `-X` skips any ~/.psqlrc, `ON_ERROR_STOP` makes a failed
 * statement fail the call.
 */
function psql(url: string, args: string[], input?: Readable | string): Promise<string> {
  const child = spawn("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    // Only the URL decides where psql connects.
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGCONNECT_TIMEOUT: "5" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  if (input === undefined) child.stdin.end();
  else if (typeof input === "string") child.stdin.end(input);
  else input.pipe(child.stdin);
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve(stdout.trim())
        : reject(new Error(`psql exited with ${code}: ${stderr.trim() || stdout.trim()}`)),
    );
  });
}

/** Runs SQL (one or more statements), returns psql's unaligned, tuples-only output. */
export function runSql(url: string, sql: string): Promise<string> {
  return psql(url, ["-c", sql]);
}

/** `COPY table (columns) FROM STDIN` in CSV, the rows read from `csv`. */
export function copyCsv(url: string, table: string, columns: string[], csv: Readable): Promise<string> {
  const list = columns.map((column) => `"${column}"`).join(", ");
  return psql(url, ["-c", `COPY "${table}" (${list}) FROM STDIN WITH (FORMAT csv)`], csv);
}
