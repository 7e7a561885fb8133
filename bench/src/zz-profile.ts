// Throwaway: CPU profile of the server on PostgreSQL (and on SQLite) under verify / create load.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedDatabase } from "./seed.js";
import { preparePostgres } from "./postgres/prepare-postgres.js";
import { startServerProcess } from "./processes.js";
import { SERVER_MAIN } from "./scenarios/http.js";
import { measureLoad } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const s = await seedDatabase(join(dir, "s.sqlite"), { tokens: 100_000, knownTokens: 10, revocableTokens: 100 });
const pg = (await preparePostgres(s, { tokens: 100_000, workdir: dir, log: console.error }))!;
const op = process.argv[2] ?? "verify";
for (const engine of ["postgres"]) {
  const profDir = join(dir, `prof-${engine}`);
  const server = await startServerProcess(["--cpu-prof", `--cpu-prof-dir=${profDir}`, SERVER_MAIN], {
    PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", CREATE_RATE_LIMIT_PER_MINUTE: "0", WRITE_RATE_LIMIT_PER_MINUTE: "0",
    ...(engine === "postgres" ? { DATABASE_URL: pg.twin.url, DATABASE_PATH: join(dir, "x.sqlite") } : { DATABASE_PATH: s.path }),
  });
  const body = op === "verify" ? JSON.stringify({ sessionToken: s.validTokens[0] }) : JSON.stringify({ externalUserId: "u", email: "a@b.example" });
  const r = await measureLoad({ url: `${server.url}/trpc/sessionTokens.${op}`, method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${s.secretKey}` }, body, connections: 50, durationSeconds: 5, warmupSeconds: 2, serverPid: server.pid, ...(engine === "postgres" && pg.twin.databasePid ? { databasePid: pg.twin.databasePid } : {}) });
  console.log(engine, op, Math.round(r.requestsPerSecond), "req/s", r.serverCpuMicrosPerRequest?.toFixed(0), "server µs", r.databaseCpuMicrosPerRequest?.toFixed(0), "db µs");
  await server.stop();
  const file = join(profDir, readdirSync(profDir)[0]!);
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: { id: number; callFrame: { functionName: string; url: string }; hitCount?: number }[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const n = byNode.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    if (n.callFrame.functionName === "(idle)") return;
    total += dt;
    const url = n.callFrame.url;
    const pkg = /node_modules\/\.pnpm\/([^/]+)/.exec(url)?.[1]?.replace(/@[\d.]+.*$/, "") ?? (url.includes("apps/server") ? "server" : url.startsWith("node:") ? url : n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : `fn:${n.callFrame.functionName}`);
    self.set(pkg, (self.get(pkg) ?? 0) + dt);
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(40)} ${((v / total) * 100).toFixed(1)}%`);
}
await pg.database.drop();
