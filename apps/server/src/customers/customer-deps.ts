import type { Database } from "../db/database.js";
import type { Clock } from "../shared/clock.js";

/** What the customer services reach: the database and the clock, passed in by the caller. */
export interface CustomerDeps {
  db: Database;
  clock: Clock;
}
