import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";

/** What the customer services reach: the database and the clock, passed in by the caller. */
export interface CustomerDeps {
  store: Store;
  clock: Clock;
}
