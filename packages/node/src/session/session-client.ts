import {
  apiUrlForCredential,
  apiUrls,
  type CurrentSession,
  currentSession,
  DEFAULT_API_URL,
  type SessionCustomerView,
  sessionCustomerView,
  type SignedOut,
  signedOut,
} from "@billingos/contracts";
import type { AppRouter } from "@billingos/server";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import { z } from "zod";
import { BillingOSError } from "../billingos-error.js";
import { createHttpFetch } from "../http-fetch.js";

export interface SessionClientOptions {
  /** The `bos_session_…` token your backend created for the signed-in user. */
  sessionToken: string;
  /** Where `bos_session_test_` tokens go. Default http://localhost:4000 */
  sandboxUrl?: string;
  /** Where `bos_session_live_` tokens go. Default http://localhost:4000 */
  productionUrl?: string;
  /** Give up on a call after this long (BillingOSError code TIMEOUT). Default: none. */
  timeoutMs?: number;
}

/**
 * The browser's client: calls the customer-facing API with the session token. A refused token
 * surfaces as BillingOSError UNAUTHORIZED (or FORBIDDEN for an operation outside its scope).
 */
export class BillingOSSession {
  readonly apiUrl: string;
  readonly #client: TRPCClient<AppRouter>;

  constructor(options: SessionClientOptions) {
    const urls = apiUrls.safeParse({
      sandboxUrl: options.sandboxUrl ?? DEFAULT_API_URL,
      productionUrl: options.productionUrl ?? DEFAULT_API_URL,
    });
    if (!urls.success) throw BillingOSError.fromValidation(urls.error);
    const token = typeof options.sessionToken === "string" ? options.sessionToken : "";
    const url = apiUrlForCredential(token, "sessionToken", urls.data);
    if (url === null) {
      throw new BillingOSError({
        code: "UNAUTHORIZED",
        message: "sessionToken must be a BillingOS session token (bos_session_test_… or bos_session_live_…)",
      });
    }
    this.apiUrl = url.replace(/\/+$/, "");
    this.#client = createTRPCClient<AppRouter>({
      links: [httpLink({
          url: `${this.apiUrl}/trpc`,
          headers: () => ({ authorization: `Bearer ${token}` }),
          fetch: createHttpFetch(options.timeoutMs),
        })],
    });
  }

  async #call<T>(send: (client: TRPCClient<AppRouter>) => Promise<T>): Promise<T> {
    try {
      return await send(this.#client);
    } catch (error) {
      throw BillingOSError.fromUnknown(error);
    }
  }

  /** The token's id, expiry and what it may do (needs `session:read`). */
  async getSession(): Promise<CurrentSession> {
    return z.decode(currentSession, await this.#call((client) => client.session.get.query()));
  }

  /** The signed-in customer and the Stripe customer bound to them, if any (needs `customer:read`). */
  async getCustomer(): Promise<SessionCustomerView> {
    return z.decode(sessionCustomerView, await this.#call((client) => client.session.customer.query()));
  }

  /** Revokes the token in hand; every later call with it is refused (needs `session:revoke`). */
  async signOut(): Promise<SignedOut> {
    return z.decode(signedOut, await this.#call((client) => client.session.signOut.mutate()));
  }
}

export function createSessionClient(options: SessionClientOptions): BillingOSSession {
  return new BillingOSSession(options);
}
