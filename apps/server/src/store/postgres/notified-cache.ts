import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

/** The channel a transaction that changed cached rows notifies at commit, on every host. */
export const CACHE_CHANNEL = "billingos_cache";
/** More distinct keys than any deployment holds; past it the cache starts over rather than grow. */
const MAX_ENTRIES = 10_000;
/** How often the listening connection proves it is alive, and how long it may take to. */
export const HEARTBEAT_MS = 5_000;
export const HEARTBEAT_TIMEOUT_MS = 2_000;
/** Waits between attempts to listen again after the connection is lost: 100 ms doubling to 5 s. */
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * The key cache of the PostgreSQL engine, for several hosts on one database. Rows are kept while
 * a dedicated connection LISTENs on CACHE_CHANNEL; a transaction that changes a cached row (a key
 * revoked on any host, or by the admin CLI) NOTIFYs it, which PostgreSQL delivers to every
 * listener when that transaction commits, and each host then forgets every row. The host that
 * committed forgets them before its caller hears back, so there the next call reads afresh.
 *
 * While the listener is not connected (starting, lost, reconnecting) nothing is kept and every
 * read goes to the database: a notification missed then cannot leave a stale row behind. A
 * connection that dies without a word is found by a heartbeat (`select 1` every HEARTBEAT_MS,
 * answered within HEARTBEAT_TIMEOUT_MS), which bounds how long a lost notification can go unseen.
 */
export class NotifiedCache {
  #rows = new Map<string, unknown>();
  /** Bumped on every invalidation: a read that started before one must not keep what it found. */
  #epoch = 0;
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;
  readonly #stop = new AbortController();
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnecting: Promise<void> | undefined;

  constructor(
    private readonly newClient: () => pg.Client,
    private readonly onError: (error: Error) => void = () => {},
  ) {}

  /** Whether rows are being kept (the listener is connected). */
  get listening(): boolean {
    return this.#listening;
  }

  async read<Row>(cacheKey: string, load: () => Promise<Row | undefined>): Promise<Row | undefined> {
    if (!this.#listening) return load();
    const cached = this.#rows.get(cacheKey) as Row | undefined;
    if (cached !== undefined) return cached;
    const epoch = this.#epoch;
    const row = await load();
    if (row !== undefined && epoch === this.#epoch && this.#listening) {
      if (this.#rows.size >= MAX_ENTRIES) this.#rows = new Map();
      this.#rows.set(cacheKey, row);
    }
    return row;
  }

  /** Forgets every row (a notification arrived, or this host committed a change). */
  invalidate(): void {
    this.#epoch++;
    if (this.#rows.size > 0) this.#rows = new Map();
  }

  /**
   * Connects the listener. Resolves once it listens or the first attempt failed; after a failure
   * (or a later loss) it keeps trying in the background until closed.
   */
  async start(): Promise<void> {
    if (!(await this.#listen())) this.#scheduleReconnect();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    this.#drop();
    await this.#reconnecting;
  }

  async #listen(): Promise<boolean> {
    const client = this.newClient();
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("The cache listener's connection ended")));
    client.on("notification", (message) => {
      if (message.channel === CACHE_CHANNEL) this.invalidate();
    });
    try {
      await client.connect();
      await client.query(`listen ${CACHE_CHANNEL}`);
    } catch (error) {
      client.end().catch(() => {});
      this.onError(error as Error);
      return false;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return true;
    }
    this.#client = client;
    // Whatever changed before LISTEN took effect was never announced to this connection.
    this.invalidate();
    this.#listening = true;
    this.#heartbeat = setInterval(() => this.#beat(client), HEARTBEAT_MS);
    this.#heartbeat.unref();
    return true;
  }

  async #beat(client: pg.Client): Promise<void> {
    const abort = new AbortController();
    const timeout = sleep(HEARTBEAT_TIMEOUT_MS, undefined, { signal: abort.signal }).then(() => {
      throw new Error(`The cache listener did not answer within ${HEARTBEAT_TIMEOUT_MS} ms`);
    });
    try {
      await Promise.race([client.query("select 1"), timeout]);
    } catch (error) {
      this.#lost(client, error as Error);
    } finally {
      abort.abort();
      timeout.catch(() => {});
    }
  }

  #lost(client: pg.Client, error: Error): void {
    if (client !== this.#client) return;
    if (!this.#closed) this.onError(error);
    this.#drop();
    this.#scheduleReconnect();
  }

  /** Stops keeping rows and lets the connection go. */
  #drop(): void {
    this.#listening = false;
    this.invalidate();
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    const client = this.#client;
    this.#client = undefined;
    client?.end().catch(() => {});
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnecting !== undefined) return;
    this.#reconnecting = (async () => {
      for (let wait = RECONNECT_MIN_MS; !this.#closed; wait = Math.min(wait * 2, RECONNECT_MAX_MS)) {
        await sleep(wait, undefined, { ref: false, signal: this.#stop.signal }).catch(() => {});
        if (this.#closed || (await this.#listen())) break;
      }
    })().finally(() => {
      this.#reconnecting = undefined;
    });
  }
}
