import { type ChildProcess, spawn } from "node:child_process";

export interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects on timeout or exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code; rejects (after killing it) if it runs longer than `timeoutMs`. */
  finished(timeoutMs: number): Promise<number>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a command, collecting stdout and stderr together for error messages. It stays in our process
 * group, so a Ctrl-C at the terminal reaches it too; if this process exits first, it is killed.
 */
export function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Started {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  const running = () => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    if (running()) child.kill(name);
  };
  const killOnExit = () => signal("SIGKILL");
  process.once("exit", killOnExit);
  void exited.then(() => process.off("exit", killOnExit));

  const stop = async (graceMs = 5_000) => {
    if (!running()) return;
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return {
    child,
    output: () => output,
    stop,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const poll = setInterval(() => {
          const match = output.match(pattern);
          if (match) done(() => resolve(match));
          else if (!running())
            done(() => reject(new Error(`exited before printing ${pattern}:\n${output.slice(-4_000)}`)));
        }, 50);
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output.slice(-4_000)}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearInterval(poll);
          clearTimeout(timer);
          settle();
        };
      }),
    finished: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void stop(1_000);
          reject(new Error(`still running after ${timeoutMs} ms:\n${output.slice(-4_000)}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
