// The CommonJS build's options, shared by the build script and the test that loads its output.
export function cjsBuildOptions(outfile) {
  return {
    entryPoints: ["src/index.ts"],
    outfile,
    bundle: true,
    platform: "neutral",
    format: "cjs",
    target: "es2022",
    jsx: "automatic",
    // One file, with the session client bundled in (@billingos/node ships ESM only); React stays the app's.
    external: ["react", "react-dom", "react/jsx-runtime"],
    // Next.js app-router pages must see the directive on the module they import.
    banner: { js: '"use client";' },
    logOverride: { "module-level-directive": "silent" },
    sourcemap: true,
  };
}
