import { join } from "node:path";
import { getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RetryLaterError } from "../../src/shared/domain-error.js";
import { retryLaterForBusy } from "../../src/store/sqlite/lock-wait.js";
import { makeTempDir, type TempDir } from "./support.js";

// A busy database met outside the write-lock wait (a read while another process recovers the WAL
// after a crash) must reach the caller as a 503 with Retry-After, not a 500. The error here is
// SQLite's own, raised by a real lock held by a second connection, then wrapped as tRPC wraps
// whatever a procedure throws.

let temp: TempDir;
beforeEach(() => {
  temp = makeTempDir("billingos-busy-read-");
});
afterEach(() => temp.remove());

function realBusyError(): unknown {
  const path = join(temp.path, "busy.sqlite");
  const holder = new BetterSqlite3(path);
  holder.pragma("journal_mode = WAL");
  holder.exec("create table t (x); begin immediate; insert into t values (1)");
  const other = new BetterSqlite3(path);
  other.pragma("busy_timeout = 0");
  try {
    other.exec("begin immediate");
    return undefined;
  } catch (error) {
    return error;
  } finally {
    other.close();
    holder.exec("rollback");
    holder.close();
  }
}

describe("retryLaterForBusy", () => {
  it("turns SQLite's busy error, as tRPC wraps it, into SERVICE_UNAVAILABLE with a retry hint", () => {
    const busy = realBusyError();
    expect((busy as { code?: string }).code).toBe("SQLITE_BUSY");
    const wrapped = getTRPCErrorFromUnknown(busy);
    expect(wrapped.code).toBe("INTERNAL_SERVER_ERROR");
    const mapped = retryLaterForBusy(wrapped.cause);
    expect(mapped).toBeInstanceOf(RetryLaterError);
    expect([mapped?.code, mapped?.retryAfterSeconds]).toEqual(["SERVICE_UNAVAILABLE", 1]);
  });

  it("leaves every other error as it is", () => {
    const other = new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: new Error("disk I/O error") });
    expect(retryLaterForBusy(other.cause)).toBeUndefined();
    expect(retryLaterForBusy(new TRPCError({ code: "NOT_FOUND" }))).toBeUndefined();
  });
});
