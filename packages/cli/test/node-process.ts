import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const MAIN = "packages/cli/src/main.ts";
/** `node` arguments that run the CLI from its TypeScript source, as `pnpm billingos` does. */
export const CLI = ["--conditions=source", "--import", "tsx", MAIN];

export interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node [nodeArgs] …` from the repository root, with pipes (not a terminal) for output. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const PEAK_RSS_REPORTER = new URL("./peak-rss-reporter.mjs", import.meta.url).href;

/**
 * `runNode`, plus the process's peak resident set size in bytes (getrusage's ru_maxrss, written
 * by peak-rss-reporter.mjs as the process exits; undefined if it never exited normally, e.g. a
 * crash out of memory).
 */
export async function runNodeMeasured(
  args: string[],
  reportFile: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ProcessRun & { peakRss: number | undefined }> {
  rmSync(reportFile, { force: true });
  const run = await runNode(["--import", PEAK_RSS_REPORTER, ...args], {
    ...env,
    BILLINGOS_TEST_PEAK_RSS_FILE: reportFile,
  });
  let peakRss: number | undefined;
  try {
    peakRss = Number(readFileSync(reportFile, "utf8"));
  } catch {
    peakRss = undefined;
  }
  return { ...run, peakRss };
}
