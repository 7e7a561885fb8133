import { resolve } from "node:path";
import type { NextConfig } from "next";
import { allowedDevOrigins } from "./src/lib/allowed-dev-origins";

// The workspace packages are compiled from their TypeScript sources (what their "source" export
// condition points at), so the app needs no build of them first and `pnpm dev` sees edits at once.
// That takes webpack's extensionAlias (their `./x.js` imports mean `./x.ts`), which Turbopack lacks:
// hence `--webpack` in the package scripts. Paths are from the app folder, where the scripts run next.
const packages = resolve(process.cwd(), "../../packages");
const workspaceSources = {
  "@billingos/contracts$": resolve(packages, "contracts/src/index.ts"),
  "@billingos/node/session$": resolve(packages, "node/src/session/index.ts"),
  "@billingos/node$": resolve(packages, "node/src/index.ts"),
  "@billingos/react$": resolve(packages, "react/src/index.ts"),
};

const nextConfig: NextConfig = {
  // No image optimisation, so no sharp and nothing fetched at build or run time.
  images: { unoptimized: true },
  poweredByHeader: false,
  // `next dev` serves its dev resources to pages opened at these hosts only (see the function).
  allowedDevOrigins: allowedDevOrigins(process.env.HOST),
  // The browser test builds into a folder of its own, so it never replaces what `pnpm build` made.
  distDir: process.env.EXAMPLE_NEXT_DIST_DIR || ".next",
  // The test's build may skip the type check: `pnpm typecheck` checks the same files, and it costs ~20 s.
  typescript: { ignoreBuildErrors: process.env.EXAMPLE_SKIP_BUILD_TYPECHECK === "1" },
  webpack(config: { resolve: { alias: Record<string, string>; extensionAlias?: Record<string, string[]> } }) {
    Object.assign(config.resolve.alias, workspaceSources);
    // Their relative imports name the emitted file (`./x.js`) of a `.ts` source, as NodeNext wants.
    config.resolve.extensionAlias = { ...config.resolve.extensionAlias, ".js": [".ts", ".tsx", ".js"] };
    return config;
  },
};

export default nextConfig;
