import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";
import { StoreOpenError } from "../store-open-error.js";

/** Errors of the file system (node's) and of SQLite that mean "this path cannot hold the database". */
const FILE_SYSTEM_CODES = new Set([
  "EACCES",
  "EPERM",
  "EROFS",
  "ENOTDIR",
  "EEXIST",
  "EISDIR",
  "ENOSPC",
  "ENAMETOOLONG",
  "ELOOP",
  "ENOENT",
]);
const SQLITE_CODE = /^SQLITE_(CANTOPEN|READONLY|PERM|NOTADB|IOERR|FULL|AUTH)/;

const FIX = "set DATABASE_PATH to a file in a folder this user can write (default ./data/billingos.sqlite)";

/** The nearest folder of `path` that exists (where mkdir would start). */
function nearestExisting(path: string): string {
  let folder = dirname(path);
  for (;;) {
    try {
      statSync(folder);
      return folder;
    } catch {
      const parent = dirname(folder);
      if (parent === folder) return folder;
      folder = parent;
    }
  }
}

/** What is wrong with the path, in words, from what can be checked; undefined if nothing shows. */
function diagnosis(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return "it is a folder, not a file";
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch {
      return "the file is not readable and writable by this user";
    }
  } catch {
    // not there yet: look at the folder it would be made in
  }
  const folder = nearestExisting(path);
  try {
    if (!statSync(folder).isDirectory()) return `${folder} is a file, not a folder`;
    accessSync(folder, constants.W_OK);
  } catch {
    return `the folder ${folder} is not writable`;
  }
  return undefined;
}

/**
 * A failure to open or first write the SQLite file, as one line naming the path and what to do;
 * anything else (a fault of ours) is returned unchanged to surface as itself.
 */
export function sqliteOpenError(path: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !(FILE_SYSTEM_CODES.has(code) || SQLITE_CODE.test(code))) return error;
  const reason = diagnosis(path) ?? (error instanceof Error ? error.message : String(error));
  return new StoreOpenError(`Cannot open the SQLite database ${path}: ${reason}; ${FIX}`, { cause: error });
}
