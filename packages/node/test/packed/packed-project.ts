import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** npm, with none of the npm_config_* settings pnpm hands to the scripts it runs. */
function plainEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_|^pnpm_/i.test(name)));
}

/** A plain npm project in a temp folder outside the workspace, and a way to delete it. */
export interface PackedProject {
  dir: string;
  remove(): void;
}

/**
 * Packs each workspace package as it would be published (`pnpm pack`: workspace:* becomes the
 * version; the built dist/ is what goes in, so `pnpm build` must have run, as `pnpm test` does) and
 * installs the tarballs with npm into a new project, as a merchant installs them from the registry.
 * Their other dependencies come from the npm registry.
 */
export async function installPacked(packageDirs: string[]): Promise<PackedProject> {
  const dir = mkdtempSync(join(tmpdir(), "billingos-packed-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    for (const packageDir of packageDirs) {
      if (!existsSync(join(packageDir, "dist"))) {
        throw new Error(`${packageDir}/dist is missing: run \`pnpm build\` first (pnpm test does)`);
      }
      // The dist/ `pnpm test` built goes in as it is: the packages' prepack build (for a real
      // publish) would rebuild it while other suites read it.
      await run("pnpm", ["pack", "--pack-destination", dir], {
        cwd: packageDir,
        env: { ...process.env, npm_config_ignore_scripts: "true" },
      });
    }
    const tarballs = readdirSync(dir).filter((file) => file.endsWith(".tgz"));
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "merchant-app", private: true }));
    await run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs.map((t) => `./${t}`)],
      { cwd: dir, env: plainEnv() },
    );
    return { dir, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
