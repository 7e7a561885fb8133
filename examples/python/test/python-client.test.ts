import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createApiKey,
  createLogger,
  type RunningHttpServer,
  type Store,
  startHttpServer,
  systemClock,
} from "@billingos/server";
import { openTestStore } from "@billingos/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// examples/python/example.py, run with python3 against a real server on a real port over a fresh
// migrated database: what a Python shop's code would do with nothing but the standard library.

const EXAMPLE = fileURLToPath(new URL("../example.py", import.meta.url));
const INSTALL_HINT = "python3 is needed to run the Python example's test (sudo apt-get install -y python3).";
const pythonInstalled = spawnSync("python3", ["--version"]).status === 0;
const isCI = !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());

if (!pythonInstalled) {
  if (isCI) {
    it("has python3 to run the Python example", () => {
      throw new Error(INSTALL_HINT);
    });
  } else {
    console.warn(`Skipping the Python example's test. ${INSTALL_HINT}`);
  }
}

function runExample(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("python3", [EXAMPLE], { env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.runIf(pythonInstalled)("the Python example", () => {
  let store: Store;
  let server: RunningHttpServer;
  let secretKey: string;

  beforeAll(async () => {
    store = await openTestStore();
    server = await startHttpServer({
      deps: { store, clock: systemClock, logger: createLogger("silent") },
      port: 0,
      host: "127.0.0.1",
    });
    secretKey = (await createApiKey(store, systemClock, { organizationName: "Acme", environment: "test" })).secretKey;
  });
  afterAll(async () => {
    await server.close(500);
    await store.close();
  });

  it("creates, verifies, lists every page, revokes and reads typed errors", async () => {
    const { code, stdout, stderr } = await runExample({
      BILLINGOS_URL: server.url,
      BILLINGOS_SECRET_KEY: secretKey,
      EXAMPLE_USER_ID: "py_user",
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");

    const created = lines.filter((line) => line.startsWith("created "));
    expect(created).toHaveLength(3);
    const tokenIds = created.map((line) => line.split(" ")[1]!);
    for (const line of created)
      expect(line).toMatch(/^created tok_[0-9a-z]{26} expires \d{4}-\d\d-\d\dT[\d:.]+Z prefix bos_session_test_$/);

    expect(lines).toContain("verified valid=True user=py_user metadata={'client': 'python', 'n': 0}");
    // Three tokens over pages of two: the iterator followed nextCursor to the end, newest first.
    expect(lines).toContain(`listed 3 tokens over pages of 2: ${[...tokenIds].reverse().join(" ")}`);
    expect(lines.find((line) => line.startsWith("revoked "))).toMatch(new RegExp(`^revoked ${tokenIds[1]} at \\d{4}-`));
    expect(lines).toContain("verified after revoke valid=False reason=revoked");
    expect(lines).toContain("active 2");
    expect(lines).toContain(
      "error BAD_REQUEST 400 fields=['expiresIn'] message=Invalid input: expiresIn: expiresIn must be at least 60 seconds",
    );
    expect(lines).toContain(
      "error NOT_FOUND 404 message=No session token tok_00000000000000000000000000 in this organization's test environment",
    );
    expect(lines).toContain("error UNAUTHORIZED 401");
  });
});
