import { fileURLToPath } from "node:url";
import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.js";

export default mergeConfig(sharedConfig, {
  // The Next.js fixture imports "@/auth", as a Next.js app would.
  resolve: { alias: { "@/auth": fileURLToPath(new URL("./fixtures/nextjs/auth.ts", import.meta.url)) } },
});
