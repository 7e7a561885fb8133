// `pnpm dev`: turbo runs the server and the example app in watch mode. Ctrl-C is how a developer
// stops them, and both stop cleanly (exit 0); but turbo counts any interrupted persistent task as
// not successful, prints "Tasks: 0 successful, 2 total" and exits 130, which pnpm then reports as
// "ELIFECYCLE Command failed". After Ctrl-C that summary is left out and the exit code is 0; a
// task that fails on its own (before any Ctrl-C) is reported by turbo as usual, exit code kept.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

const turbo = spawn("turbo", ["run", "dev", ...process.argv.slice(2)], {
  stdio: ["inherit", "pipe", "inherit"],
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});

let interrupted = false;
// The terminal sends Ctrl-C to turbo too (same process group), and pnpm relays it here as well:
// turbo does the stopping; this process only waits for it.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupted = true;
    if (signal === "SIGTERM") turbo.kill("SIGTERM");
  });
}

/** Turbo's closing summary: ` Tasks:    0 successful, 2 total`, `Cached: …`, `  Time: …`. */
const SUMMARY = /^\s*(Tasks|Cached|Time):\s/;

createInterface({ input: turbo.stdout, crlfDelay: Infinity }).on("line", (line) => {
  if (interrupted && (SUMMARY.test(line) || line.trim() === "")) return;
  process.stdout.write(`${line}\n`);
});

turbo.on("error", (error) => {
  console.error(`pnpm dev: could not start turbo (${error.message})`);
  process.exit(1);
});
turbo.on("exit", (code, signal) => {
  process.exit(interrupted ? 0 : (code ?? (signal ? 1 : 0)));
});
