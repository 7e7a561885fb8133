import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuiltServer, startBuiltServer } from "../../node/test/packed/built-server.js";
import { installPacked, type PackedProject } from "../../node/test/packed/packed-project.js";
import { fixture, parseReport, stripeImportArgs } from "./cli-harness.js";

// The command as a merchant gets it from npm: @billingos/cli packed (with the contracts and the node
// client it depends on) and installed with npm in a project outside this workspace; its `billingos`
// bin imports a file into a real server process. It runs the published build, not the sources.

const run = promisify(execFile);
const PACKAGES = fileURLToPath(new URL("../../", import.meta.url));
const SERVER_ROOT = fileURLToPath(new URL("../../../apps/server/", import.meta.url));

let project: PackedProject | undefined;
let server: BuiltServer | undefined;

beforeAll(async () => {
  project = await installPacked(["contracts", "node", "cli"].map((name) => join(PACKAGES, name)));
  server = await startBuiltServer(SERVER_ROOT, project.dir);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  project?.remove();
});

const billingos = (args: string[]) =>
  run(join(project!.dir, "node_modules/.bin/billingos"), args, {
    cwd: project!.dir,
    env: { PATH: process.env.PATH },
  });

describe("@billingos/cli packed and installed with npm", () => {
  it("its billingos bin runs the built command", async () => {
    expect((await billingos(["--version"])).stdout.trim()).toBe("0.1.0");
  });

  it("imports a Stripe CSV export into a real server", async () => {
    const { stdout } = await billingos(
      stripeImportArgs(fixture("customers-export.csv"), server!.secretKey, server!.url),
    );
    expect(parseReport(stdout)).toMatchObject({ rowsRead: 3, created: 3, skipped: 0 });
  });
});
