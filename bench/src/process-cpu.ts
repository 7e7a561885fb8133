import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** The parent's pid (field 4). */
  ppid: number;
  /** User + system CPU time so far (fields 14 and 15), microseconds. */
  cpuMicros: number;
}

/**
 * Parses /proc/PID/stat. The command name (field 2) is in parentheses and may hold spaces and
 * parentheses of its own (PostgreSQL retitles its processes "postgres: 15/main: user db (…)"), so the
 * fields are counted from the last ") ".
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const end = text.lastIndexOf(") ");
  if (end === -1) return undefined;
  // After the name: state (3), ppid (4), … utime (14), stime (15).
  const fields = text.slice(end + 2).split(" ");
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { ppid, cpuMicros: ((utime + stime) * 1_000_000) / TICKS_PER_SECOND };
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) a process has used so far, in microseconds, read from /proc; undefined
 * where there is no /proc. Throughput depends on how the load generator and the server share the
 * cores; CPU per request does not, so it is the steadier figure on a shared machine.
 */
export function processCpuMicros(pid: number): number | undefined {
  return readProcStat(pid)?.cpuMicros;
}

/**
 * CPU time so far of a process and of each of its children, by pid (a PostgreSQL postmaster and its
 * backends, writers and autovacuum workers); undefined when the process is not visible here (a
 * database on another host).
 */
export function processTreeCpu(pid: number): Map<number, number> | undefined {
  const parent = readProcStat(pid);
  if (parent === undefined) return undefined;
  const cpu = new Map([[pid, parent.cpuMicros]]);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (stat?.ppid === pid) cpu.set(Number(entry), stat.cpuMicros);
  }
  return cpu;
}

/**
 * CPU used between two snapshots of a process tree. A child that appeared in between (a new
 * connection's backend) counts from zero; one that exited in between is lost (pools keep theirs).
 */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, micros] of after) used += micros - (before.get(pid) ?? 0);
  return used;
}
