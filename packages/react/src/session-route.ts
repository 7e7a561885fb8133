// The merchant backend's side of the provider: where a session token comes from, and where every
// token of the signed-in customer is revoked on sign-out. By default both are the documented route.

/** The documented route of the merchant's backend (README: "Next.js route handler"). */
export const DEFAULT_SESSION_ROUTE = "/api/billingos-session";

/** What the merchant backend answers: the route's `{ sessionToken, expiresAt }`. */
export interface SessionTokenGrant {
  sessionToken: string;
  /** An ISO string (as JSON carries it) or a Date. */
  expiresAt: string | Date;
}

/** Resolves to a token, or to null when the merchant app says nobody is signed in. */
export type GetSessionToken = () => Promise<SessionTokenGrant | null>;
/** Revokes every BillingOS token of the signed-in customer, through the merchant backend. */
export type RevokeSessionTokens = () => Promise<void>;

/** A failure of the merchant backend's route (not of BillingOS): an HTTP status, or an answer of the wrong shape. */
export class SessionRouteError extends Error {
  override readonly name = "SessionRouteError";
  constructor(
    message: string,
    readonly httpStatus: number | undefined,
  ) {
    super(message);
  }
}

/** `POST route`: 200 `{ sessionToken, expiresAt }`, or 401 when the visitor is not signed in (null). */
export function sessionTokenFromRoute(route: string): GetSessionToken {
  return async () => {
    const response = await fetch(route, {
      method: "POST",
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    if (response.status === 401) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new SessionRouteError(
        `POST ${route} answered HTTP ${response.status}; it should answer { sessionToken, expiresAt }`,
        response.status,
      );
    }
    const body: unknown = await response.json().catch(() => null);
    const grant = body as Partial<SessionTokenGrant> | null;
    if (typeof grant?.sessionToken !== "string" || typeof grant.expiresAt !== "string") {
      throw new SessionRouteError(`POST ${route} answered 200 without { sessionToken, expiresAt }`, response.status);
    }
    return { sessionToken: grant.sessionToken, expiresAt: grant.expiresAt };
  };
}

/** `DELETE route`: the backend revokes every token of its signed-in user (revokeCustomerSessionTokens). */
export function revokeThroughRoute(route: string): RevokeSessionTokens {
  return async () => {
    const response = await fetch(route, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    await response.body?.cancel();
    // 401: the merchant app's own session is already over, so there is no customer to act for.
    if (!response.ok && response.status !== 401) {
      throw new SessionRouteError(
        `DELETE ${route} answered HTTP ${response.status}; the customer's tokens may still be active`,
        response.status,
      );
    }
  };
}
