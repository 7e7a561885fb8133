#!/usr/bin/env node
// The `billingos` bin of @billingos/cli. Everything but the process itself lives in run-cli.ts,
// so tests run the same code in process.
import { runCli } from "./run-cli.js";

// Run as the root `pnpm billingos …` script, the process starts in the repository root; relative
// file names must still mean what they meant where the command was typed.
const cwd = process.env.npm_lifecycle_event === "billingos" ? (process.env.INIT_CWD ?? process.cwd()) : process.cwd();

process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, cwd });
