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

  it("documents the next-auth v4 route and its session type exactly as the typechecked fixture has them", () => {
    const readme = read("../../../README.md");
    const blockOf = (name: string) =>
      readme.match(new RegExp(`<!-- ${name}:start -->\n\`\`\`ts\n([\\s\\S]*?)\`\`\`\n<!-- ${name}:end -->`))?.[1];
    expect(blockOf("next-auth-v4-route")).toBe(read("../fixtures/next-auth-v4/app/api/billingos-session/route.ts"));
    expect(blockOf("next-auth-v4-types")).toBe(read("../fixtures/next-auth-v4/types/next-auth.d.ts"));
  });
});
