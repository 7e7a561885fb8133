import { execFile } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltServer, startBuiltServer } from "./built-server.js";
import { installPacked, type PackedProject } from "./packed-project.js";

// What a merchant installs from npm, as a merchant installs it: the packed tarballs of
// @billingos/contracts and @billingos/node (`pnpm pack` turns their workspace:* ranges into
// versions) go into a plain npm project outside this workspace, which then uses the client from a
// CommonJS script (require) and from an ES module (import), against a real server process. It
// packs what `pnpm build` made (`pnpm test` builds first), so it checks the published build, not
// the sources the other suites run.

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL("../../../", import.meta.url));
const SERVER_ROOT = fileURLToPath(new URL("../../../../apps/server/", import.meta.url));
const HERE = fileURLToPath(new URL("./", import.meta.url));

let project: PackedProject | undefined;
let server: BuiltServer | undefined;

beforeAll(async () => {
  project = await installPacked([join(PACKAGES, "contracts"), join(PACKAGES, "node")]);
  for (const script of ["consumer.cjs", "consumer.mjs"]) copyFileSync(join(HERE, script), join(project.dir, script));
  server = await startBuiltServer(SERVER_ROOT, project.dir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  project?.remove();
});

async function runConsumer(script: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [script], {
    cwd: project!.dir,
    env: { PATH: process.env.PATH, BILLINGOS_URL: server!.url, BILLINGOS_SECRET_KEY: server!.secretKey },
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

const installed = (path: string) => join(project!.dir, "node_modules/@billingos", path);

describe("@billingos/node packed and installed with npm", () => {
  it("depends on versions, never workspace:*, and only on contracts, @trpc/client and zod", () => {
    const manifest = JSON.parse(readFileSync(installed("node/package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@billingos/contracts", "@trpc/client", "zod"]);
    expect(manifest.dependencies["@billingos/contracts"]).toBe("0.1.0");
    expect(JSON.stringify(manifest)).not.toContain("workspace:");
  });

  it("require(): a CommonJS script gets the CommonJS build, and creates, verifies and revokes a token", async () => {
    expect(await runConsumer("consumer.cjs")).toEqual({
      resolved: installed("node/dist/index.cjs"),
      sessionResolved: installed("node/dist/session/index.cjs"),
      verified: "user_cjs",
      sessionTokenId: true,
      afterRevoke: "revoked",
      refusedCode: "BAD_REQUEST",
      oneErrorClass: true,
    });
  });

  it("import: an ES module gets the ESM build, and creates, verifies and revokes a token", async () => {
    expect(await runConsumer("consumer.mjs")).toEqual({
      errorsAcrossBuilds: true,
      resolved: installed("node/dist/index.js"),
      sessionResolved: installed("node/dist/session/index.js"),
      verified: "user_esm",
      sessionTokenId: true,
      afterRevoke: "revoked",
      refusedCode: "BAD_REQUEST",
      oneErrorClass: true,
    });
  });
});
