import type { Store } from "../store/store.js";
import type { Queryable } from "../store/queryable.js";
import type { Clock } from "../shared/clock.js";

/** What the customer services reach: the database and the clock, passed in by the caller. */
export interface CustomerDeps {
  store: Store;
  clock: Clock;
}
