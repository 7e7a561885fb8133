import type { Clock } from "../shared/clock.js";
import type { Store } from "../store/store.js";

/** What the session-token rules need: passed in, never imported. */
export interface SessionTokenDeps {
  store: Store;
  clock: Clock;
  /** Lazy binding uses only emails sent with `emailVerified: true`. Default: false. */
  lazyBindingRequiresVerifiedEmail?: boolean;
}
