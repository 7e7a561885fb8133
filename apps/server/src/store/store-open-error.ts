/**
 * The store could not be opened (a malformed DATABASE_URL, a server that cannot be reached or
 * refuses the credentials). The message is one line a person can act on, with no password in it:
 * the caller prints it and exits 1.
 */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*[\r\n]+\s*/g, " ").trim(), options);
  }
}
