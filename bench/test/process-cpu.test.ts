import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { cpuBetween, parseProcStat, processCpuMicros, processTreeCpu } from "../src/process-cpu.js";

describe("parseProcStat", () => {
  it("reads ppid and utime + stime after a command name with spaces and parentheses", () => {
    // A PostgreSQL backend retitles itself; the name field then holds spaces and a ") ".
    const line =
      "4242 (postgres: 15/regress: postgres bench 127.0.0.1(5) idle) S 4100 4100 4100 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 1 0 900 200000000 3000 18446744073709551615";
    expect(parseProcStat(line)).toEqual({ ppid: 4100, cpuMicros: (250 + 125) * 10_000 });
  });

  it("refuses a line without a command name", () => {
    expect(parseProcStat("garbage")).toBeUndefined();
  });
});

describe("cpuBetween", () => {
  it("counts a process that appeared from zero and ignores one that went away", () => {
    const before = new Map([
      [1, 1_000],
      [2, 5_000],
    ]);
    const after = new Map([
      [1, 1_600],
      [3, 700],
    ]);
    expect(cpuBetween(before, after)).toBe(600 + 700);
  });
});

describe("processTreeCpu", () => {
  it("holds this process and a child it started, and nothing for a pid that does not exist", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10_000)"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      const tree = processTreeCpu(process.pid)!;
      // This process keeps running: its CPU time can only have grown since the snapshot.
      expect(tree.get(process.pid)).toBeGreaterThan(0);
      expect(tree.get(process.pid)).toBeLessThanOrEqual(processCpuMicros(process.pid)!);
      expect(tree.has(child.pid!)).toBe(true);
      expect(processTreeCpu(2 ** 22 + 1)).toBeUndefined();
    } finally {
      child.kill();
    }
  });
});
