import {
  type ApiUrls,
  apiUrlForCredential,
  type BindCustomerInput,
  bindCustomerInput,
  type CreateSessionTokenInput,
  type CustomerSessionTokensRevoked,
  type CustomersImported,
  createSessionTokenInput,
  customerSessionTokensRevoked,
  customersImported,
  environmentOfPrefix,
  type GetCustomerInput,
  getCustomerInput,
  type ImportCustomersInput,
  type ImportedCustomer,
  importCustomersInput,
  importedCustomer,
  type ListSessionTokensInput,
  type ListUnresolvedCustomersInput,
  listSessionTokensInput,
  listUnresolvedCustomersInput,
  type Operation,
  parseToken,
  type RevokeCustomerSessionTokensInput,
  revokeCustomerSessionTokensInput,
  revokeSessionTokenInput,
  SESSION_TOKEN_PREFIXES,
  type SessionTokenCreated,
  type SessionTokenPage,
  type SessionTokenRevoked,
  type SessionTokenVerification,
  sessionTokenCreated,
  sessionTokenPage,
  sessionTokenRevoked,
  sessionTokenVerification,
  type UnresolvedCustomerPage,
  unbindCustomerInput,
  unresolvedCustomerPage,
  verifySessionTokenInput,
} from "@billingos/contracts";
import type { AppRouter } from "@billingos/server";
import { createTRPCClient, httpLink, type TRPCClient } from "@trpc/client";
import { z } from "zod";
import { resolveApiUrls } from "./api-urls.js";
import { BillingOSError } from "./billingos-error.js";
import { createHttpFetch } from "./http-fetch.js";
import { type ListPromise, listPromise } from "./list-promise.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry-policy.js";
import { billingOSErrorFromUnknown, billingOSErrorFromValidation } from "./trpc-errors.js";

/** Per-call options of the mutations that change something. */
export interface MutationOptions {
  /**
   * Your own Idempotency-Key for this operation (1–255 printable ASCII characters; a UUID is best):
   * send the same again, even from another process, and the server answers the first answer
   * instead of doing the work twice. Without it the client makes one per call when it retries.
   */
  idempotencyKey?: string;
}

const PRINTABLE_ASCII_KEY = /^[\x20-\x7e]{1,255}$/;

/** The tRPC call options carrying a caller's key to the headers (checked here, as the server would). */
function withKey(options: MutationOptions | undefined): { context: { idempotencyKey?: string } } | undefined {
  const key = options?.idempotencyKey;
  if (key === undefined) return undefined;
  if (typeof key !== "string" || !PRINTABLE_ASCII_KEY.test(key)) {
    throw new BillingOSError({
      code: "BAD_REQUEST",
      message: "idempotencyKey must be 1–255 printable ASCII characters (a UUID is best)",
    });
  }
  return { context: { idempotencyKey: key } };
}

/** Mutations that change nothing (verify is a POST only to keep tokens out of URLs) need no key. */
const READ_ONLY_MUTATIONS = new Set(["sessionTokens.verify"]);

function checkedRetries(value: number | undefined): number {
  if (value === undefined) return DEFAULT_RETRY_POLICY.maxNetworkRetries;
  if (!Number.isSafeInteger(value) || value < 0 || value > 10) {
    throw new BillingOSError({
      code: "BAD_REQUEST",
      message: `maxNetworkRetries must be an integer from 0 to 10; got ${String(value)}`,
    });
  }
  return value;
}

export interface BillingOSOptions {
  /** `sk_test_…` talks to the sandbox URL, `sk_live_…` to the production URL. */
  secretKey: string;
  /** Default: BILLINGOS_SANDBOX_URL, else http://localhost:4000 */
  sandboxUrl?: string;
  /** Default: BILLINGOS_PRODUCTION_URL, else http://localhost:4000 */
  productionUrl?: string;
  /**
   * Give up on one attempt of a call after this long; once the retries are spent too, the call
   * fails with BillingOSError code TIMEOUT. Default: 30000.
   */
  timeoutMs?: number;
  /**
   * How many times a call is sent again after no answer (connection refused or cut, timeout), a 429
   * or a 5xx, with exponential backoff and jitter, honouring Retry-After (up to 10 s). Mutations
   * then carry a generated Idempotency-Key, the same on every attempt, so a retried call does its
   * work once. 0 turns retries (and the keys) off. Default: 2.
   */
  maxNetworkRetries?: number;
}

/** Validates with the shared schema, so bad input fails here with the server's own message. */
function validated<T extends z.ZodType>(schema: T, input: unknown): z.input<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw billingOSErrorFromValidation(result.error);
  return input as z.input<T>;
}

/**
 * An answer in its typed form (Dates for ISO strings). One that does not match the contract (from a
 * proxy or cache in between, or a server of another version) is a BillingOSError like every other
 * failure, never a bare ZodError.
 */
function decodedAnswer<T extends z.ZodType>(schema: T, wire: z.input<T>): z.output<T> {
  const result = z.safeDecode(schema, wire);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "" : ` at ${issue.path.join(".")}`;
  // httpStatus 200: an answer came, successfully, and sending the call again would not change it.
  throw new BillingOSError({
    code: "INTERNAL_SERVER_ERROR",
    httpStatus: 200,
    message: `The answer does not match the BillingOS API${where}: ${issue?.message ?? "invalid"}`.slice(0, 300),
    cause: result.error,
  });
}

/**
 * The merchant backend's client. Calls are typed from the shared contracts; times come back as
 * Dates; every failure is a BillingOSError.
 */
export class BillingOS {
  readonly #secretKey: string;
  readonly #urls: ApiUrls;
  readonly #timeoutMs: number;
  readonly #retryPolicy: RetryPolicy;
  #client: TRPCClient<AppRouter> | undefined;
  #warnedAboutUnresolved = false;

  constructor(options: BillingOSOptions) {
    // The key is checked on first use, not here: a missing environment variable must not break a
    // framework's build step that merely imports the module.
    this.#secretKey = options.secretKey;
    this.#urls = resolveApiUrls(options);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#retryPolicy = { ...DEFAULT_RETRY_POLICY, maxNetworkRetries: checkedRetries(options.maxNetworkRetries) };
  }

  /** The API URL this client's key routes to. */
  get apiUrl(): string {
    return this.#url();
  }

  #url(): string {
    const key = typeof this.#secretKey === "string" ? this.#secretKey : "";
    const url = parseToken(key, "secretKey") === null ? null : apiUrlForCredential(key, "secretKey", this.#urls);
    if (url === null) {
      const hint = /^pk_/.test(key)
        ? "publishable keys cannot call the merchant API"
        : environmentOfPrefix(key, "secretKey") !== null
          ? "it fails its checksum (was it copied in full?)"
          : "expected sk_test_… or sk_live_…";
      throw new BillingOSError({ code: "UNAUTHORIZED", message: `Invalid secretKey: ${hint}` });
    }
    return url;
  }

  #trpc(): TRPCClient<AppRouter> {
    this.#client ??= createTRPCClient<AppRouter>({
      links: [
        httpLink({
          url: `${this.#url()}/trpc`,
          headers: ({ op }) => {
            const headers: Record<string, string> = { authorization: `Bearer ${this.#secretKey}` };
            // One key per call, made before its first attempt: every retry of the call sends it again.
            const own = (op.context as { idempotencyKey?: string }).idempotencyKey;
            if (own !== undefined) headers["idempotency-key"] = own;
            else if (
              this.#retryPolicy.maxNetworkRetries > 0 &&
              op.type === "mutation" &&
              !READ_ONLY_MUTATIONS.has(op.path)
            ) {
              headers["idempotency-key"] = crypto.randomUUID();
            }
            return headers;
          },
          fetch: createHttpFetch(this.#timeoutMs, this.#retryPolicy),
        }),
      ],
    });
    return this.#client;
  }

  async #call<T>(send: (client: TRPCClient<AppRouter>) => Promise<T>): Promise<T> {
    const client = this.#trpc();
    try {
      return await send(client);
    } catch (error) {
      throw billingOSErrorFromUnknown(error, this.#url());
    }
  }

  /** Issues a session token for one of your users, to hand to their browser. */
  async createSessionToken(input: CreateSessionTokenInput, options?: MutationOptions): Promise<SessionTokenCreated> {
    const body = validated(createSessionTokenInput, input);
    const callOptions = withKey(options);
    const wire = await this.#call((client) => client.sessionTokens.create.mutate(body, callOptions));
    const created = decodedAnswer(sessionTokenCreated, wire);
    // null is "no email" (SPEC §6), as absent is: customers waiting for a bind are worth the warning either way.
    const withoutEmail = input.email === undefined || input.email === null;
    if (withoutEmail && created.unresolvedCustomers !== undefined) this.#warnUnresolved(created.unresolvedCustomers);
    return created;
  }

  /** Once per client: imported customers only bind when tokens are created with `email`. */
  #warnUnresolved(count: number): void {
    if (this.#warnedAboutUnresolved) return;
    this.#warnedAboutUnresolved = true;
    console.warn(
      `[billingos] ${count} imported customer${count === 1 ? " is" : "s are"} waiting to be bound to your users. ` +
        "Pass `email` to createSessionToken so each binds on its user's first session.",
    );
  }

  /** Revokes by token id (`tok_…`) or by the token itself. Revoking twice returns the first time. */
  async revokeSessionToken(tokenIdOrSessionToken: string, options?: MutationOptions): Promise<SessionTokenRevoked> {
    const callOptions = withKey(options);
    const isToken =
      typeof tokenIdOrSessionToken === "string" &&
      Object.values(SESSION_TOKEN_PREFIXES).some((prefix) => tokenIdOrSessionToken.startsWith(prefix));
    const body = validated(
      revokeSessionTokenInput,
      isToken ? { sessionToken: tokenIdOrSessionToken } : { tokenId: tokenIdOrSessionToken },
    );
    const wire = await this.#call((client) => client.sessionTokens.revoke.mutate(body, callOptions));
    return decodedAnswer(sessionTokenRevoked, wire);
  }

  /** Whether a token is usable now (optionally for one operation); if not, the reason. */
  async verifySessionToken(
    sessionToken: string,
    options: { operation?: Operation } = {},
  ): Promise<SessionTokenVerification> {
    const body = validated(verifySessionTokenInput, { sessionToken, ...options });
    const wire = await this.#call((client) => client.sessionTokens.verify.mutate(body));
    return decodedAnswer(sessionTokenVerification, wire);
  }

  /**
   * A customer's tokens, newest first. Awaited: one page (pass `nextCursor` back as `cursor`).
   * Iterated with `for await`: every token, page after page (`limit` is then the page size).
   */
  listSessionTokens(input: ListSessionTokensInput): ListPromise<SessionTokenPage> {
    return listPromise(input, async (page) => {
      const body = validated(listSessionTokensInput, page);
      const wire = await this.#call((client) => client.sessionTokens.list.query(body));
      return decodedAnswer(sessionTokenPage, wire);
    });
  }

  /** Imports up to 1000 Stripe customers (idempotent upsert by Stripe id); `dryRun` reports without writing. */
  async importCustomers(input: ImportCustomersInput, options?: MutationOptions): Promise<CustomersImported> {
    const callOptions = withKey(options);
    const body = validated(importCustomersInput, input);
    const wire = await this.#call((client) => client.customers.import.mutate(body, callOptions));
    return decodedAnswer(customersImported, wire);
  }

  /**
   * Imported customers still awaiting a bind, with the reason, oldest import first. Awaited: one
   * page; iterated with `for await`: every one of them, page after page.
   */
  listUnresolvedCustomers(input: ListUnresolvedCustomersInput = {}): ListPromise<UnresolvedCustomerPage> {
    return listPromise(input, async (page) => {
      const body = validated(listUnresolvedCustomersInput, page);
      const wire = await this.#call((client) => client.customers.listUnresolved.query(body));
      return decodedAnswer(unresolvedCustomerPage, wire);
    });
  }

  /**
   * Binds an imported customer to one of your users by hand; CONFLICT if either is bound elsewhere.
   * With `rebind: true`, a customer bound to another user is moved to this one in one step (audited
   * as an unbind and a bind); the user must still be free.
   */
  async bindCustomer(input: BindCustomerInput, options?: MutationOptions): Promise<ImportedCustomer> {
    const callOptions = withKey(options);
    const body = validated(bindCustomerInput, input);
    const wire = await this.#call((client) => client.customers.bind.mutate(body, callOptions));
    return decodedAnswer(importedCustomer, wire);
  }

  /**
   * Undoes a customer's binding (a wrong one), audited as `customer.unbound`. The customer is then
   * unresolved with reason `binding_undone` and binds only by hand (`bindCustomer`), never lazily.
   * Unbinding a customer that is not bound returns it unchanged.
   */
  async unbindCustomer(stripeCustomerId: string, options?: MutationOptions): Promise<ImportedCustomer> {
    const callOptions = withKey(options);
    const body = validated(unbindCustomerInput, { stripeCustomerId });
    const wire = await this.#call((client) => client.customers.unbind.mutate(body, callOptions));
    return decodedAnswer(importedCustomer, wire);
  }

  /** One imported customer, by `stripeCustomerId` or by the `externalUserId` it is bound to. */
  async getCustomer(input: GetCustomerInput): Promise<ImportedCustomer> {
    const body = validated(getCustomerInput, input);
    const wire = await this.#call((client) => client.customers.get.query(body));
    return decodedAnswer(importedCustomer, wire);
  }

  /** Revokes every active token of one customer, by `externalUserId` or by `externalOrganizationId`. */
  async revokeCustomerSessionTokens(
    input: RevokeCustomerSessionTokensInput,
    options?: MutationOptions,
  ): Promise<CustomerSessionTokensRevoked> {
    const callOptions = withKey(options);
    const body = validated(revokeCustomerSessionTokensInput, input);
    const wire = await this.#call((client) => client.sessionTokens.revokeForCustomer.mutate(body, callOptions));
    return decodedAnswer(customerSessionTokensRevoked, wire);
  }
}
