import {
  apiUrlForCredential,
  type CurrentSession,
  DEFAULT_API_URL,
  type SessionCustomerView,
  type SignedOut,
} from "@billingos/contracts";
import { BillingOSError } from "../billingos-error.js";
import { callProcedure, type TransportOptions } from "./session-transport.js";
import {
  type CurrentSessionWire,
  decodeCurrentSession,
  decodeSessionCustomerView,
  decodeSignedOut,
  type SessionCustomerViewWire,
  type SignedOutWire,
} from "./session-wire.js";

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

/** An http(s) URL, or the same BAD_REQUEST the Node client gives for it (named after the option). */
function httpUrl(name: "sandboxUrl" | "productionUrl", value: string | undefined): string {
  const url = value ?? DEFAULT_API_URL;
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol === "http:" || protocol === "https:") return url;
  const message = `${name} must be an http(s) URL`;
  throw new BillingOSError({ code: "BAD_REQUEST", httpStatus: 400, message, fieldErrors: { [name]: [message] } });
}

/**
 * The browser's client: calls the customer-facing API with the session token. A refused token
 * surfaces as BillingOSError UNAUTHORIZED (or FORBIDDEN for an operation outside its scope).
 */
export class BillingOSSession {
  readonly apiUrl: string;
  readonly #transport: TransportOptions;

  constructor(options: SessionClientOptions) {
    const urls = {
      sandboxUrl: httpUrl("sandboxUrl", options.sandboxUrl),
      productionUrl: httpUrl("productionUrl", options.productionUrl),
    };
    const token = typeof options.sessionToken === "string" ? options.sessionToken : "";
    const url = apiUrlForCredential(token, "sessionToken", urls);
    if (url === null) {
      throw new BillingOSError({
        code: "UNAUTHORIZED",
        message: "sessionToken must be a BillingOS session token (bos_session_test_… or bos_session_live_…)",
      });
    }
    this.apiUrl = url.replace(/\/+$/, "");
    this.#transport = { apiUrl: this.apiUrl, sessionToken: token, timeoutMs: options.timeoutMs };
  }

  /** The token's id, expiry and what it may do (needs `session:read`). */
  async getSession(): Promise<CurrentSession> {
    return decodeCurrentSession((await callProcedure(this.#transport, "query", "session.get")) as CurrentSessionWire);
  }

  /** The signed-in customer and the Stripe customer bound to them, if any (needs `customer:read`). */
  async getCustomer(): Promise<SessionCustomerView> {
    return decodeSessionCustomerView(
      (await callProcedure(this.#transport, "query", "session.customer")) as SessionCustomerViewWire,
    );
  }

  /** Revokes the token in hand; every later call with it is refused (needs `session:revoke`). */
  async signOut(): Promise<SignedOut> {
    return decodeSignedOut((await callProcedure(this.#transport, "mutation", "session.signOut")) as SignedOutWire);
  }
}

export function createSessionClient(options: SessionClientOptions): BillingOSSession {
  return new BillingOSSession(options);
}
