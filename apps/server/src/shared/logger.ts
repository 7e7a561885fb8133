import { type LevelWithSilent, type Logger, pino } from "pino";
import pretty from "pino-pretty";

export type { Logger };

/** `json`: one JSON object a line, for log shippers; `pretty`: lines for a person at a terminal. */
export type LogFormat = "json" | "pretty";

/** The fields of an access-log line (http/access-log.ts), folded into one readable line when pretty. */
const ACCESS_FIELDS = [
  "requestId",
  "method",
  "procedure",
  "status",
  "durationMs",
  "keyId",
  "tokenId",
  "organizationId",
  "environment",
  "errorCode",
  "reason",
  "aborted",
];

/** `POST sessionTokens.create 401 UNAUTHORIZED 2.1 ms key_… org_… test (req_…)`, or the message as is. */
function readableMessage(log: Record<string, unknown>, messageKey: string): string {
  const message = String(log[messageKey] ?? "");
  if (message !== "request" || log.requestId === undefined) return message;
  const parts = [
    log.method,
    log.procedure ?? "-",
    log.status,
    log.errorCode,
    log.reason,
    `${String(log.durationMs)} ms`,
  ];
  for (const field of ["keyId", "tokenId", "organizationId", "environment"]) parts.push(log[field]);
  if (log.aborted) parts.push("aborted by the client");
  return `${parts.filter((part) => part !== undefined).join(" ")} (${String(log.requestId)})`;
}

function prettyStream(destination: pino.DestinationStream | undefined): pino.DestinationStream {
  return pretty({
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: ["pid", "hostname", "service", ...ACCESS_FIELDS].join(","),
    messageFormat: readableMessage,
    sync: true,
    ...(destination === undefined ? {} : { destination: destination as NodeJS.WritableStream }),
  });
}

/**
 * Structured logs (JSON unless `format` is "pretty"). Secrets never reach a log line: the
 * Authorization header and anything named like a token or key is redacted wherever it appears,
 * and the access log names callers by ids only.
 */
export function createLogger(
  level: LevelWithSilent = "info",
  destination?: pino.DestinationStream,
  format: LogFormat = "json",
): Logger {
  return pino(
    {
      level,
      base: { service: "billingos" },
      redact: {
        paths: [
          "authorization",
          "*.authorization",
          "headers.authorization",
          "sessionToken",
          "*.sessionToken",
          "secretKey",
          "*.secretKey",
        ],
        censor: "[redacted]",
      },
    },
    format === "pretty" ? prettyStream(destination) : (destination ?? bufferedStdout()),
  );
}

/** How long a JSON log line may wait in the buffer before it is written. */
const LOG_FLUSH_INTERVAL_MS = 200;

/**
 * Standard output, written in blocks of at least 4 KiB (and at least every 200 ms): the access log
 * writes a line per request, and one write per line costs more than the line itself. pino flushes
 * what is buffered when the process exits (a clean stop, an exit on error); a SIGKILL loses at most
 * the last 200 ms of lines.
 */
function bufferedStdout(): pino.DestinationStream {
  const stream = pino.destination({ dest: 1, minLength: 4096, sync: false });
  setInterval(() => {
    // Before the file descriptor is ready there is nothing to flush, and flush() would throw.
    try {
      stream.flush();
    } catch {
      // not open yet, or already ending: the next tick (or the exit) writes it
    }
  }, LOG_FLUSH_INTERVAL_MS).unref();
  return stream;
}
