import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { authorizeDemoUser, demoUserId } from "../src/lib/demo-user";

const read = (path: string) => readFileSync(new URL(path, import.meta.url), "utf8");

describe("the example app", () => {
  it("serves the documented session-token route, character for character", () => {
    expect(read("../src/app/api/billingos-session/route.ts")).toBe(
      read("../../../packages/node/fixtures/nextjs/app/api/billingos-session/route.ts"),
    );
  });

  it("gives the same email the same user id, whatever its case and spacing", () => {
    const id = demoUserId("ada@example.com");
    expect(id).toMatch(/^user_[0-9a-f]{16}$/);
    expect(demoUserId("  Ada@Example.COM ")).toBe(id);
    expect(demoUserId("grace@example.com")).not.toBe(id);
    expect(authorizeDemoUser(" Ada@Example.com", "demo")).toEqual({ id, email: "ada@example.com", name: "ada" });
  });

  it("signs in only with a well-formed email and the demo password", () => {
    expect(authorizeDemoUser("ada@example.com", "Demo")).toBeNull();
    expect(authorizeDemoUser("ada@example.com", "")).toBeNull();
    expect(authorizeDemoUser("not-an-email", "demo")).toBeNull();
    expect(authorizeDemoUser(undefined, "demo")).toBeNull();
  });
});
