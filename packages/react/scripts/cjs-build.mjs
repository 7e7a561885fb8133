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
    // One file of this package's code. React stays the app's; the session client is required from
    // @billingos/node's own CommonJS build, so BillingOSError is one class for the app and the hooks.
    external: ["react", "react-dom", "react/jsx-runtime", "@billingos/node"],
    // Next.js app-router pages must see the directive on the module they import.
    banner: { js: '"use client";' },
    logOverride: { "module-level-directive": "silent" },
    sourcemap: true,
  };
}
