import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");

describe("README", () => {
  it("documents the Next.js route handler exactly as the typechecked fixture has it", () => {
    const readme = read("../../../README.md");
    const block = readme.match(/<!-- nextjs-route:start -->\n```ts\n([\s\S]*?)```\n<!-- nextjs-route:end -->/)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(read("../fixtures/nextjs/app/api/billingos-session/route.ts"));
  });
});
