/** Thrown inside a transaction to undo it while still returning a result (dry runs). */
export class Rollback<T> {
  constructor(readonly result: T) {}
}

/** Undoes the transaction it is called in; `transaction` returns `result`. */
export function rollbackWith<T>(result: T): never {
  throw new Rollback(result);
}
