import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { allowedDevOrigins } from "../src/lib/allowed-dev-origins";

describe("the hosts next dev serves its dev resources to", () => {
  it("are localhost and the loopback addresses by default (HOST unset or 127.0.0.1)", () => {
    expect(allowedDevOrigins(undefined)).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(allowedDevOrigins("127.0.0.1")).toEqual(["localhost", "127.0.0.1", "[::1]"]);
  });

  it("include the address pnpm dev listens on (HOST), IPv6 in brackets as a browser's Origin has it", () => {
    expect(allowedDevOrigins("192.168.1.20")).toContain("192.168.1.20");
    expect(allowedDevOrigins(" Dev-Box.Local ")).toContain("dev-box.local");
    expect(allowedDevOrigins("fd00::5")).toContain("[fd00::5]");
  });

  it("include this machine's name and addresses when it listens on every interface", () => {
    for (const everyInterface of ["0.0.0.0", "::"]) {
      const origins = allowedDevOrigins(everyInterface);
      expect(origins).toContain(hostname().toLowerCase());
      expect(origins).toContain("127.0.0.1");
      expect(origins).not.toContain(everyInterface);
    }
  });
});
