import { BillingOSError, type BillingOSSession, createSessionClient } from "@billingos/node/session";
import type { GetSessionToken, RevokeSessionTokens, SessionTokenGrant } from "./session-route.js";

// The provider's state machine, with no React in it: one token at a time, fetched from the merchant
// backend, reused until shortly before it expires, replaced ahead of expiry, one fetch in flight at
// most. Nothing runs until start() (the provider calls it in an effect, so never on the server).

export type BillingOSStatus = "loading" | "ready" | "signed-out" | "error";

export interface BillingOSState {
  status: BillingOSStatus;
  /** The session client over the token in hand (status "ready"). */
  client: BillingOSSession | null;
  /** When the token in hand expires. */
  expiresAt: Date | null;
  /** Why status is "error". */
  error: Error | null;
  /** Grows by one with every new token, so what was read with the previous one can be read again. */
  tokenGeneration: number;
}

export interface SessionTokenStoreOptions {
  getSessionToken: GetSessionToken;
  revokeSessionTokens: RevokeSessionTokens;
  sandboxUrl?: string | undefined;
  productionUrl?: string | undefined;
  /** Fetch the next token this long before the current one expires (at most a third of its lifetime). */
  refreshMarginSeconds: number;
  timeoutMs?: number | undefined;
}

export const DEFAULT_REFRESH_MARGIN_SECONDS = 60;
/** A token closer than this to its expiry is not sent: it could expire on the way. */
const EXPIRY_SKEW_MS = 2_000;
/** After a failed refresh while the token in hand is still good, try again this soon (at most). */
const REFRESH_RETRY_MS = 10_000;
/** The backend is asked for a token at most this often (while the one in hand is still good). */
const MIN_REFRESH_INTERVAL_MS = 1_000;

interface HeldToken {
  client: BillingOSSession;
  expiresAt: number;
  /** When to fetch the next one. */
  refreshAt: number;
  /**
   * Not before this: a backend that hands back a token already inside its refresh window (a cached
   * one) must not be asked again in a tight loop.
   */
  notBefore: number;
}

const INITIAL: BillingOSState = { status: "loading", client: null, expiresAt: null, error: null, tokenGeneration: 0 };

/** What the server renders, and every provider's first state. */
export const initialBillingOSState: BillingOSState = INITIAL;

export function isUnauthorized(error: unknown): boolean {
  return error instanceof BillingOSError && error.code === "UNAUTHORIZED";
}

export class SessionTokenStore {
  #options: SessionTokenStoreOptions;
  #state: BillingOSState = INITIAL;
  readonly #listeners = new Set<() => void>();
  #held: HeldToken | null = null;
  #inFlight: Promise<HeldToken | null> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #active = false;
  /** Grows on sign-out and on retry: a token fetched before either is not taken. */
  #epoch = 0;
  /** A token is being fetched because BillingOS refused the last one (a 401). */
  #recovering = false;
  /**
   * Tokens fetched to replace a refused one, until a call with them succeeds: a 401 on one of these
   * means signed out, not "fetch again" (that would loop while the backend hands out dead tokens).
   */
  readonly #unproven = new WeakSet<BillingOSSession>();

  constructor(options: SessionTokenStoreOptions) {
    this.#options = options;
  }

  setOptions(options: SessionTokenStoreOptions): void {
    this.#options = options;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  readonly getSnapshot = (): BillingOSState => this.#state;

  /** Begins (or resumes) holding a token. Idempotent: a second start fetches nothing more. */
  start(): void {
    this.#active = true;
    if (this.#held !== null) this.#schedule();
    else if (this.#state.status === "loading") void this.#obtain().catch(() => {});
  }

  /** Stops the refresh timer (the provider unmounted). The token in hand and a fetch in flight are kept. */
  stop(): void {
    this.#active = false;
    clearTimeout(this.#timer);
  }

  /**
   * Runs `operation` with a live token. A 401 (revoked elsewhere, expired while the machine slept)
   * gets one fresh token and one more try; a second 401 means signed out. Anything else, a 403 for
   * an operation outside the token's scope included, is the caller's error as it is.
   */
  async run<T>(operation: (client: BillingOSSession) => Promise<T>): Promise<T> {
    const client = await this.#client();
    try {
      return await this.#attempt(operation, client);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
      if (this.#unproven.has(client)) {
        this.#signedOutIfHeld(client);
        throw error;
      }
      this.#drop(client);
    }
    // Unless another call has already replaced it, the next token is fetched because of this 401.
    if (this.#held === null) this.#recovering = true;
    const fresh = await this.#client();
    try {
      return await this.#attempt(operation, fresh);
    } catch (error) {
      if (isUnauthorized(error)) this.#signedOutIfHeld(fresh);
      throw error;
    }
  }

  async #attempt<T>(operation: (client: BillingOSSession) => Promise<T>, client: BillingOSSession): Promise<T> {
    const result = await operation(client);
    this.#unproven.delete(client);
    return result;
  }

  /** A refused replacement means signed out, unless the state has already moved on to another token. */
  #signedOutIfHeld(client: BillingOSSession): void {
    if (this.#held === null || this.#held.client === client) this.#signedOut();
  }

  /**
   * Revokes the token in hand with BillingOS, then every token of the customer through the merchant
   * backend, then forgets everything. Rejects if the backend could not revoke (tokens may remain).
   */
  async signOut(): Promise<void> {
    this.#epoch += 1;
    // A token being fetched right now is one more of this customer's: let it land, so it is revoked too.
    await this.#inFlight?.catch(() => null);
    const held = this.#held;
    this.#held = null;
    clearTimeout(this.#timer);
    try {
      if (held !== null) {
        // Already refused is already signed out; any other failure, the backend's revocation covers.
        await held.client.signOut().catch(() => {});
      }
      await this.#options.revokeSessionTokens();
    } finally {
      this.#set({ status: "signed-out", client: null, expiresAt: null, error: null });
    }
  }

  /** From "error" or "signed-out": start over with a fresh token (e.g. after signing in again). */
  retry(): void {
    this.#epoch += 1;
    this.#recovering = false;
    this.#held = null;
    clearTimeout(this.#timer);
    this.#set({ status: "loading", client: null, expiresAt: null, error: null });
    // A fetch still in flight belongs to before the retry (its token is not taken): let it finish
    // first, so that there is still never more than one.
    const pending = this.#inFlight ?? Promise.resolve(null);
    void pending
      .catch(() => null)
      .then(() => this.#obtain())
      .catch(() => {});
  }

  /** The client of a token that is good to send, fetching one if there is none. */
  async #client(): Promise<BillingOSSession> {
    const now = Date.now();
    const held = this.#held;
    if (held !== null && now < held.expiresAt - EXPIRY_SKEW_MS) {
      if (now >= held.refreshAt && now >= held.notBefore) void this.#obtain().catch(() => {});
      return held.client;
    }
    if (this.#state.status === "signed-out") throw signedOutError();
    const fresh = await this.#obtain();
    if (fresh === null) throw signedOutError();
    return fresh.client;
  }

  /** Forgets the token of `client` if it is still the one in hand (a 401 said it is no good). */
  #drop(client: BillingOSSession): void {
    if (this.#held?.client !== client) return;
    this.#held = null;
    clearTimeout(this.#timer);
  }

  /** Fetches a token; every caller while one fetch is in flight shares it. */
  #obtain(): Promise<HeldToken | null> {
    if (this.#inFlight !== null) return this.#inFlight;
    const epoch = this.#epoch;
    const fetched = this.#fetch(epoch).finally(() => {
      if (this.#inFlight === fetched) this.#inFlight = null;
    });
    this.#inFlight = fetched;
    return fetched;
  }

  async #fetch(epoch: number): Promise<HeldToken | null> {
    let grant: SessionTokenGrant | null;
    let held: HeldToken | null;
    try {
      grant = await this.#options.getSessionToken();
      held = grant === null ? null : this.#hold(grant);
    } catch (error) {
      if (epoch === this.#epoch) this.#failed(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    if (epoch !== this.#epoch) return held; // signed out (or restarted) meanwhile: not ours to keep
    if (this.#recovering) {
      this.#recovering = false;
      if (held !== null) this.#unproven.add(held.client);
    }
    if (held === null) {
      this.#signedOut();
      return null;
    }
    this.#held = held;
    this.#set({
      status: "ready",
      client: held.client,
      expiresAt: new Date(held.expiresAt),
      error: null,
      tokenGeneration: this.#state.tokenGeneration + 1,
    });
    this.#schedule();
    return held;
  }

  #hold(grant: SessionTokenGrant): HeldToken {
    const client = createSessionClient({
      sessionToken: grant.sessionToken,
      ...(this.#options.sandboxUrl === undefined ? {} : { sandboxUrl: this.#options.sandboxUrl }),
      ...(this.#options.productionUrl === undefined ? {} : { productionUrl: this.#options.productionUrl }),
      ...(this.#options.timeoutMs === undefined ? {} : { timeoutMs: this.#options.timeoutMs }),
    });
    const expiresAt = new Date(grant.expiresAt).getTime();
    const now = Date.now();
    if (Number.isNaN(expiresAt)) throw new TypeError("The session token's expiresAt is not a date");
    if (expiresAt - EXPIRY_SKEW_MS <= now)
      throw new RangeError("The merchant backend handed over a session token that has already expired");
    const margin = Math.min(this.#options.refreshMarginSeconds * 1000, (expiresAt - now) / 3);
    return { client, expiresAt, refreshAt: expiresAt - margin, notBefore: now + MIN_REFRESH_INTERVAL_MS };
  }

  /** A failed fetch: fatal without a good token in hand; with one, try again before it runs out. */
  #failed(error: Error): void {
    const held = this.#held;
    if (held !== null && Date.now() < held.expiresAt - EXPIRY_SKEW_MS) {
      this.#schedule(Math.min(REFRESH_RETRY_MS, (held.expiresAt - Date.now()) / 2));
      return;
    }
    this.#held = null;
    this.#set({ status: "error", client: null, expiresAt: null, error });
  }

  #signedOut(): void {
    this.#held = null;
    clearTimeout(this.#timer);
    this.#set({ status: "signed-out", client: null, expiresAt: null, error: null });
  }

  /** Fetches the next token at refreshAt (or after `delayMs`), while a provider is mounted. */
  #schedule(delayMs?: number): void {
    clearTimeout(this.#timer);
    const held = this.#held;
    if (!this.#active || held === null) return;
    const delay = Math.max(0, delayMs ?? Math.max(held.refreshAt, held.notBefore) - Date.now());
    this.#timer = setTimeout(() => void this.#obtain().catch(() => {}), delay);
  }

  #set(next: Omit<BillingOSState, "tokenGeneration"> & { tokenGeneration?: number }): void {
    this.#state = { ...next, tokenGeneration: next.tokenGeneration ?? this.#state.tokenGeneration };
    for (const listener of this.#listeners) listener();
  }
}

function signedOutError(): BillingOSError {
  return new BillingOSError({
    code: "UNAUTHORIZED",
    httpStatus: 401,
    message: "Signed out: there is no BillingOS session token",
  });
}
