import type { Scope } from "../shared/scope.js";
import type { Queryable } from "../store/queryable.js";

/**
 * Held, until its transaction ends, by every write that decides which customers of a scope are
 * bound (an import, a bind or unbind by hand, a lazy bind about to bind): they run one after the
 * other, each seeing the last one's committed rows, on PostgreSQL as on SQLite (where every write
 * transaction is serialized already). Without it, two imports of one Stripe id would both insert
 * it, two emails of one user could bind it twice, and an import would miss a shared email.
 */
export function lockCustomersOf(trx: Queryable, scope: Scope): Promise<void> {
  return trx.lock(`customers:${scope.organizationId}:${scope.environment}`);
}
