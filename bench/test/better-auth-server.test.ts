import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const EMAIL = "bench-user@billingos.test";

interface Started {
  child: ChildProcess;
  url: string;
  token: string;
  /** Everything the process has written to stdout so far. */
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the peer server as the bench does and waits for its one JSON line. */
function startBetterAuthServer(dbPath: string): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/src/servers/better-auth-server.ts"], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: "0", BETTER_AUTH_DB: dbPath },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    void exited.then(({ code }) => reject(new Error(`exited with ${code} before listening: ${stderr}`)));
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline === -1) return;
      const line = JSON.parse(stdout.slice(0, newline)) as { url: string; token: string };
      resolve({ child, url: line.url, token: line.token, stdout: () => stdout, exited });
    });
  });
}

const getSession = (url: string, authorization?: string) =>
  fetch(`${url}/session`, authorization ? { headers: { authorization } } : {});

// One process for the file (sign-up hashes a password, start-up takes seconds); the tests run in
// order and the last two end it: revoke the session in the database, then SIGTERM.
describe("better-auth-server (the benchmark's peer)", () => {
  let dir: string;
  let server: Started;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "better-auth-server-test-"));
    server = await startBetterAuthServer(join(dir, "nested", "better-auth.sqlite"));
  });

  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the loopback URL and a signed session token", () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token).toMatch(/^[^.]+\.[^.]+$/);
  });

  it("answers 200 with the signed-up user's session for the bearer token", async () => {
    const response = await getSession(server.url, `Bearer ${server.token}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { user: { email: string }; session: { token: string } };
    expect(body.user.email).toBe(EMAIL);
    expect(body.session.token).toBe(server.token.split(".")[0]);
  });

  it("answers 401 without a token", async () => {
    const response = await getSession(server.url);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "unauthorized" });
  });

  it("answers 401 for a wrong token: a forged signature, an unknown token, garbage", async () => {
    const [value] = server.token.split(".");
    const wrong = [`${value}.${"A".repeat(43)}=`, "x".repeat(32), "not a token"];
    for (const token of wrong) {
      const response = await getSession(server.url, `Bearer ${token}`);
      expect(response.status, token).toBe(401);
      expect(await response.json()).toEqual({ error: "unauthorized" });
    }
  });

  it("reads the database on every call: a session deleted behind its back is refused at once", async () => {
    expect((await getSession(server.url, `Bearer ${server.token}`)).status).toBe(200);
    const db = new Database(join(dir, "nested", "better-auth.sqlite"));
    try {
      expect(db.prepare("DELETE FROM session").run().changes).toBe(1);
    } finally {
      db.close();
    }
    expect((await getSession(server.url, `Bearer ${server.token}`)).status).toBe(401);
  });

  it("exits 0 on SIGTERM, having printed nothing else on stdout", async () => {
    server.child.kill("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stdout().trimEnd().split("\n")).toHaveLength(1);
  });
});
