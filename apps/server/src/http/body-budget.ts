/** One tenant's share of the body budget by default: an eighth of it, and at least one body of the largest size. */
export function defaultMaxBufferedBodyBytesPerTenant(maxBufferedBodyBytes: number, maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.floor(maxBufferedBodyBytes / 8));
}

export type Reservation = "reserved" | "tenant_share_full" | "server_full";

/**
 * The bytes of request bodies the server may hold at once, across all requests, and the share of
 * them one tenant may hold. A request reserves what it may buffer before its first body byte is
 * read (the declared length, or its body limit when the length is not declared) and gives it back
 * when its response closes, however it ends (answered, aborted, timed out). Without the total,
 * many connections each sending a body just under the per-request limit grow the process without
 * bound; without the share, one caller trickling a few dozen bodies holds the whole total and
 * every other tenant's bodies are refused.
 */
export class BodyBudget {
  #reserved = 0;
  /** Bytes held per tenant; an entry is dropped at zero, so the map holds only tenants reading a body now. */
  readonly #byTenant = new Map<string, number>();

  constructor(
    readonly limit: number,
    readonly perTenantLimit: number = limit,
  ) {}

  /**
   * Reserves `bytes` for `tenant`, or reserves nothing and says which limit it would pass. The
   * tenant's share is checked first: past it the excess is the caller's own, whatever the total.
   */
  tryReserve(bytes: number, tenant: string): Reservation {
    const held = this.#byTenant.get(tenant) ?? 0;
    if (held + bytes > this.perTenantLimit) return "tenant_share_full";
    if (this.#reserved + bytes > this.limit) return "server_full";
    this.#reserved += bytes;
    this.#byTenant.set(tenant, held + bytes);
    return "reserved";
  }

  release(bytes: number, tenant: string): void {
    this.#reserved -= bytes;
    const left = (this.#byTenant.get(tenant) ?? 0) - bytes;
    if (left > 0) this.#byTenant.set(tenant, left);
    else this.#byTenant.delete(tenant);
  }

  /** Bytes reserved now (tests and diagnostics). */
  get reserved(): number {
    return this.#reserved;
  }

  /** Tenants holding a reservation now (tests: the map must not keep tenants that hold nothing). */
  get tenantsHolding(): number {
    return this.#byTenant.size;
  }
}
