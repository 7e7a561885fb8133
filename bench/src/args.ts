import { join } from "node:path";
import { parseArgs } from "node:util";
import { OPERATIONS, type Operation } from "./operations.js";
import type { HttpSettings } from "./scenarios/http.js";
import type { InProcessSettings } from "./scenarios/in-process.js";

export const PARTS = ["in-process", "scale", "http", "peer", "postgres", "two-hosts", "import-flood"] as const;
export type Part = (typeof PARTS)[number];

export interface BenchSettings {
  mode: "quick" | "full";
  tokens: number;
  customers: number;
  /** Tokens copied into PostgreSQL (at most `tokens`). */
  postgresTokens: number;
  /** DATABASE_POOL_SIZE for the PostgreSQL server; undefined: the server's default. */
  postgresPoolSize?: number;
  /** Settings for the bench's PostgreSQL database (`alter database … set name = value`), e.g. synchronous_commit=off. */
  postgresSettings: Record<string, string>;
  http: HttpSettings;
  inProcess: InProcessSettings;
  only: Part[];
  json: string;
  /** Another checkout whose built server is measured beside this one's. */
  against?: string;
  /** Only these requests over HTTP, and then without the stock adapter and the floor; undefined: all. */
  operations?: Operation[];
}

export class UsageError extends Error {}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new UsageError(`--${name} takes a whole number above 0 (got "${text}")`);
  return value;
}

/**
 * The command line: `--quick`, `--only part,part`, `--json path`, `--against checkout`,
 * `--rounds n` (HTTP rounds), `--ops verify,create` (only these requests over HTTP), `--pg-tokens n`,
 * `--pg-pool n`, `--pg-set name=value` (repeatable).
 */
export function parseBenchArgs(argv: string[], repoRoot: string): BenchSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      json: { type: "string", default: join(repoRoot, "bench-results", "latest.json") },
      against: { type: "string" },
      rounds: { type: "string" },
      "pg-tokens": { type: "string" },
      "pg-pool": { type: "string" },
      "pg-set": { type: "string", multiple: true },
      ops: { type: "string" },
    },
  });
  const only = values.only === undefined ? [...PARTS] : values.only.split(",").map((part) => part.trim());
  const unknown = only.filter((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown.length > 0) throw new UsageError(`--only takes ${PARTS.join(", ")} (got ${unknown.join(", ")})`);

  // Full: the settings BENCHMARKS.md records. Quick: the same scenarios, smaller numbers, and more,
  // shorter rounds: one 2-second round gave ratios that moved 2× from run to run.
  const base = values.quick
    ? {
        tokens: 100_000,
        customers: 100_000,
        http: { connections: 50, durationSeconds: 1, warmupSeconds: 1, rounds: 3, rewarmSeconds: 0.5 },
        inProcess: { rounds: 3, milliseconds: 300 },
      }
    : {
        tokens: 1_000_000,
        customers: 100_000,
        http: { connections: 50, durationSeconds: 5, warmupSeconds: 3, rounds: 3, rewarmSeconds: 1 },
        inProcess: { rounds: 5, milliseconds: 2000 },
      };
  const rounds = positiveInteger("rounds", values.rounds);
  const postgresTokens = positiveInteger("pg-tokens", values["pg-tokens"]);
  const postgresPoolSize = positiveInteger("pg-pool", values["pg-pool"]);
  const operations = values.ops?.split(",").map((operation) => operation.trim());
  const unknownOperations =
    operations?.filter((operation) => !(OPERATIONS as readonly string[]).includes(operation)) ?? [];
  if (unknownOperations.length > 0)
    throw new UsageError(`--ops takes ${OPERATIONS.join(", ")} (got ${unknownOperations.join(", ")})`);
  const postgresSettings: Record<string, string> = {};
  for (const setting of values["pg-set"] ?? []) {
    const match = /^([a-z_][a-z0-9_.]*)=([A-Za-z0-9_.-]+)$/.exec(setting);
    if (!match)
      throw new UsageError(`--pg-set takes name=value, a PostgreSQL setting and a plain value (got "${setting}")`);
    postgresSettings[match[1]!] = match[2]!;
  }
  return {
    mode: values.quick ? "quick" : "full",
    tokens: base.tokens,
    customers: base.customers,
    postgresTokens: Math.min(postgresTokens ?? base.tokens, base.tokens),
    ...(postgresPoolSize === undefined ? {} : { postgresPoolSize }),
    postgresSettings,
    http: rounds === undefined ? base.http : { ...base.http, rounds },
    inProcess: base.inProcess,
    only: only as Part[],
    json: values.json,
    ...(values.against === undefined ? {} : { against: values.against }),
    ...(operations === undefined ? {} : { operations: operations as Operation[] }),
  };
}
