import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/**
 * Structured JSON logs. Secrets never reach a log line: the Authorization header and anything
 * named like a token or key is redacted wherever it appears.
 */
export function createLogger(level: LevelWithSilent = "info", destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "billingos" },
      redact: {
        paths: ["authorization", "*.authorization", "headers.authorization", "sessionToken", "*.sessionToken", "secretKey", "*.secretKey"],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
