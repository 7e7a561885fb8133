import { describe, expect, it } from "vitest";
import { PARTS, parseBenchArgs, UsageError } from "../src/args.js";

describe("parseBenchArgs", () => {
  it("runs everything in full by default, PostgreSQL seeded as large as SQLite", () => {
    const settings = parseBenchArgs([], "/repo/");
    expect(settings.only).toEqual([...PARTS]);
    expect(settings).toMatchObject({
      mode: "full",
      tokens: 1_000_000,
      postgresTokens: 1_000_000,
      json: "/repo/bench-results/latest.json",
    });
    expect(settings.http.rounds).toBe(3);
    expect(settings).not.toHaveProperty("against");
  });

  it("makes quick runs several short rounds rather than one", () => {
    const { http } = parseBenchArgs(["--quick"], "/repo");
    expect(http.rounds).toBeGreaterThanOrEqual(3);
    expect(http.durationSeconds).toBeLessThanOrEqual(2);
  });

  it("takes --only, --against, --rounds and the PostgreSQL settings", () => {
    const settings = parseBenchArgs(
      [
        "--only",
        "http,postgres",
        "--against",
        "/work/wt/baseline",
        "--rounds",
        "7",
        "--pg-tokens",
        "250000",
        "--pg-pool",
        "8",
      ],
      "/repo",
    );
    expect(settings).toMatchObject({
      only: ["http", "postgres"],
      against: "/work/wt/baseline",
      postgresTokens: 250_000,
      postgresPoolSize: 8,
    });
    expect(settings.http.rounds).toBe(7);
  });

  it("takes PostgreSQL settings as name=value, plain values only", () => {
    expect(
      parseBenchArgs(["--pg-set", "synchronous_commit=off", "--pg-set", "work_mem=64MB"], "/repo").postgresSettings,
    ).toEqual({
      synchronous_commit: "off",
      work_mem: "64MB",
    });
    expect(parseBenchArgs([], "/repo").postgresSettings).toEqual({});
    expect(() => parseBenchArgs(["--pg-set", "synchronous_commit=off'; drop database x"], "/repo")).toThrow(/--pg-set/);
  });

  it("takes --ops, a subset of the requests over HTTP, and refuses an unknown one", () => {
    expect(parseBenchArgs(["--ops", "verify,create"], "/repo").operations).toEqual(["verify", "create"]);
    expect(parseBenchArgs([], "/repo")).not.toHaveProperty("operations");
    expect(() => parseBenchArgs(["--ops", "verify,delete"], "/repo")).toThrow(/--ops takes/);
  });

  it("never seeds PostgreSQL with more tokens than SQLite", () => {
    expect(parseBenchArgs(["--quick", "--pg-tokens", "5000000"], "/repo").postgresTokens).toBe(100_000);
  });

  it("refuses an unknown part and a count that is not a whole number above 0", () => {
    expect(() => parseBenchArgs(["--only", "http,redis"], "/repo")).toThrow(UsageError);
    expect(() => parseBenchArgs(["--rounds", "0"], "/repo")).toThrow(/--rounds/);
    expect(() => parseBenchArgs(["--pg-tokens", "1e3x"], "/repo")).toThrow(/--pg-tokens/);
  });
});
