import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Creates a test secret key with the server's admin CLI (`pnpm admin keys create`) on the given
 * database, from the server's TypeScript sources. The key is alone on the CLI's last line of output.
 */
export function createTestSecretKey(databasePath: string, organization = "Example"): string {
  const result = spawnSync(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "apps/server/src/admin/main.ts",
      "keys",
      "create",
      "--org",
      organization,
      "--create-org",
      "--env",
      "test",
    ],
    { cwd: repositoryRoot, env: { ...process.env, DATABASE_PATH: databasePath }, encoding: "utf8", timeout: 60_000 },
  );
  const lastLine = result.stdout?.trim().split("\n").at(-1)?.trim() ?? "";
  if (result.status !== 0 || !lastLine.startsWith("sk_test_")) {
    throw new Error(
      `admin keys create failed (exit ${result.status ?? result.signal}): ${result.stderr || result.stdout}`,
    );
  }
  return lastLine;
}
