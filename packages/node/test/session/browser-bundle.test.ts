import { builtinModules } from "node:module";
import { fileURLToPath } from "node:url";
import { type BuildOptions, build, type Message, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

// Browser safety of @billingos/node/session (SPEC §4, issue 4 part 4): it must bundle for the
// browser with nothing Node-only in it. The same detector is run on a deliberately Node-only entry
// and on the Node client, so it is shown to catch what it looks for.

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SESSION_ENTRY = fileURLToPath(new URL("../../src/session/index.ts", import.meta.url));
const NODE_CLIENT_ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url));

const BROWSER: BuildOptions = {
  bundle: true,
  platform: "browser",
  format: "esm",
  write: false,
  conditions: ["source"],
  logLevel: "silent",
  metafile: true,
};

interface BrowserBundle {
  errors: Message[];
  warnings: Message[];
  text: string;
  metafile: Metafile | undefined;
}

/** Bundles for the browser; a failed build comes back as its errors instead of throwing. */
async function bundleForBrowser(options: BuildOptions): Promise<BrowserBundle> {
  try {
    const result = await build({ ...BROWSER, ...options });
    return {
      errors: result.errors,
      warnings: result.warnings,
      text: result.outputFiles?.map((file) => file.text).join("\n") ?? "",
      metafile: result.metafile,
    };
  } catch (error) {
    const failure = error as { errors?: Message[]; warnings?: Message[] };
    if (failure.errors === undefined) throw error;
    return { errors: failure.errors, warnings: failure.warnings ?? [], text: "", metafile: undefined };
  }
}

const BUILTINS = [...new Set(builtinModules.map((name) => name.replace(/^node:/, "")))];
const escapeRegExp = (name: string) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
/** `from "fs"`, `require("fs")`, `import("fs")`, `from "fs/promises"`: any Node built-in by its bare name. */
const BARE_BUILTIN = new RegExp(
  `(?:\\bfrom\\s*|\\brequire\\s*\\(\\s*|\\bimport\\s*\\(\\s*)["'](?:${BUILTINS.map(escapeRegExp).join("|")})(?:/[^"']*)?["']`,
);
/** Any import or require of a `node:` specifier. */
const NODE_SPECIFIER = /(?:\bfrom\s*|\brequire\s*\(\s*|\bimport\s*\(\s*|\bimport\s*)["']node:/;

/** Everything in a bundle that would not run in a browser. Empty means browser-safe. */
function nodeOnlyFindings(bundle: BrowserBundle): string[] {
  const findings = bundle.errors.map((error) => `build error: ${error.text}`);
  if (NODE_SPECIFIER.test(bundle.text)) findings.push("imports a node: module");
  const bare = BARE_BUILTIN.exec(bundle.text);
  if (bare !== null) findings.push(`imports a Node built-in: ${bare[0]}`);
  if (/\bprocess\.(env|argv|cwd|exit)\b/.test(bundle.text)) findings.push("reads the Node process object");
  for (const [file, input] of Object.entries(bundle.metafile?.inputs ?? {})) {
    for (const imported of input.imports) {
      if (imported.external) findings.push(`${file} leaves ${imported.path} external`);
    }
  }
  return findings;
}

describe("@billingos/node/session bundles for the browser", () => {
  it("builds with no errors and no warnings", async () => {
    const bundle = await bundleForBrowser({ entryPoints: [SESSION_ENTRY] });
    expect(bundle.errors).toEqual([]);
    expect(bundle.warnings).toEqual([]);
    expect(bundle.text.length).toBeGreaterThan(0);
    // The bundle really holds the client, not an empty shell.
    expect(bundle.text).toContain("createSessionClient");
    expect(bundle.text).toContain("bos_session");
  });

  it("holds nothing Node-only: no node: imports, no require of built-ins, no process, nothing left external", async () => {
    const bundle = await bundleForBrowser({ entryPoints: [SESSION_ENTRY] });
    expect(nodeOnlyFindings(bundle)).toEqual([]);
    expect(bundle.text).not.toMatch(/\brequire\s*\(/);
  });

  it("pulls in no BillingOS server code: the router is imported as a type only", async () => {
    const bundle = await bundleForBrowser({ entryPoints: [SESSION_ENTRY] });
    const inputs = Object.keys(bundle.metafile?.inputs ?? {});
    expect(inputs.some((file) => file.includes("session-client.ts"))).toBe(true);
    // (@trpc/client's shared runtime lives in @trpc/server's browser-safe core; the detector above covers it.)
    expect(inputs.filter((file) => /apps[\\/]server[\\/]|better-sqlite3|kysely|pino/.test(file))).toEqual([]);
  });

  it("pulls in neither zod nor @trpc/client: it speaks tRPC's HTTP wire over fetch, typed from the contracts", async () => {
    const bundle = await bundleForBrowser({ entryPoints: [SESSION_ENTRY] });
    // What ends up in the bundle (esbuild reads more than it keeps: unused modules are dropped).
    const inputs = Object.values(bundle.metafile?.outputs ?? {}).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, used]) => used.bytesInOutput > 0)
        .map(([file]) => file),
    );
    expect(inputs.filter((file) => /node_modules[\\/](?:\.pnpm[\\/])?(?:zod|@trpc)/.test(file))).toEqual([]);
    // Only the zod-free parts of the contracts: token prefixes and routing.
    expect(
      inputs
        .filter((file) => file.includes("contracts"))
        .map((file) => file.replace(/^.*[\\/]/, ""))
        .sort(),
    ).toEqual(["api-url-routing.ts", "environment-names.ts", "token-format.ts"].sort());
  });

  it("the detector catches a Node-only entry (so the checks above can fail)", async () => {
    const nodeOnly = await bundleForBrowser({
      stdin: {
        contents:
          'import { readFileSync } from "node:fs";\nexport const read = () => readFileSync(process.env.FILE ?? "x");\n',
        resolveDir: PACKAGE_ROOT,
        loader: "ts",
      },
    });
    expect(nodeOnlyFindings(nodeOnly)).not.toEqual([]);
    const bareBuiltin = await bundleForBrowser({
      stdin: {
        contents: 'const fs = require("fs");\nexport const read = fs.readFileSync;\n',
        resolveDir: PACKAGE_ROOT,
        loader: "js",
      },
    });
    expect(nodeOnlyFindings(bareBuiltin)).not.toEqual([]);
  });

  it("the Node client (@billingos/node) is told apart: it reads process.env, the session client does not", async () => {
    const nodeClient = await bundleForBrowser({ entryPoints: [NODE_CLIENT_ENTRY] });
    const session = await bundleForBrowser({ entryPoints: [SESSION_ENTRY] });
    expect(nodeClient.text).not.toBe(session.text);
    expect(nodeOnlyFindings(nodeClient)).not.toEqual([]);
    expect(nodeOnlyFindings(session)).toEqual([]);
  });
});
