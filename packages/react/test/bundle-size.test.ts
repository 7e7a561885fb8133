// @vitest-environment node
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";

// What a page pays for the provider and the hooks, with the session client they use: a browser
// bundle of a page importing them, minified and gzipped, must stay within the budget. React itself
// is left out (the page has it anyway).

const BUDGET_BYTES = 25 * 1024;
const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));

async function gzippedPage(contents: string): Promise<{ gzipped: number; minified: number; metafile: Metafile }> {
  const result = await build({
    stdin: { contents, resolveDir: PACKAGE_ROOT, loader: "tsx" },
    bundle: true,
    minify: true,
    platform: "browser",
    format: "esm",
    jsx: "automatic",
    external: ["react", "react-dom", "react/jsx-runtime"],
    conditions: ["source"],
    define: { "process.env.NODE_ENV": '"production"' },
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const bytes = result.outputFiles[0]!.contents;
  return { gzipped: gzipSync(bytes, { level: 9 }).length, minified: bytes.length, metafile: result.metafile };
}

const PAGE = `
import { BillingOSProvider, useBillingOS, useCustomer, useSession } from "./src/index.ts";
export function Page() {
  const { status, signOut } = useBillingOS();
  const customer = useCustomer();
  const session = useSession();
  return [status, signOut, customer.data, session.data];
}
export { BillingOSProvider };
`;

describe("bundle size of a page using @billingos/react", () => {
  it(`is at most ${BUDGET_BYTES} bytes minified and gzipped`, async () => {
    const { gzipped, minified, metafile } = await gzippedPage(PAGE);
    console.info(
      `@billingos/react page bundle: ${minified} bytes minified, ${gzipped} bytes gzipped (budget ${BUDGET_BYTES})`,
    );
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    // It is the real thing: the provider and the session client are in it.
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((file) => file.endsWith("session-token-store.ts"))).toBe(true);
    expect(inputs.some((file) => file.endsWith("session-transport.ts"))).toBe(true);
  });

  it("the same measure fails a page that pulls in zod and @trpc/client (what the session client used to weigh)", async () => {
    const { gzipped } = await gzippedPage(`
      import { createTRPCClient, httpLink } from "@trpc/client";
      import { z } from "zod";
      export const client = createTRPCClient({ links: [httpLink({ url: "/trpc" })] });
      export const schema = z.object({ a: z.string() });
      export * from "./src/index.ts";
    `);
    expect(gzipped).toBeGreaterThan(BUDGET_BYTES);
  });
});
