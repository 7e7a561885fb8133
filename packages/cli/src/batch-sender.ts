import type { CustomersImported, CustomerToImport } from "@billingos/contracts";
import { type BillingOS, BillingOSError } from "@billingos/node";
import { type RetryPolicy, withRetry } from "./retry.js";

export interface BatchSenderOptions {
  client: BillingOS;
  dryRun: boolean;
  policy: RetryPolicy;
  onRetry: (error: BillingOSError, retry: number, delayMs: number) => void;
}

export function addImported(a: CustomersImported, b: CustomersImported): CustomersImported {
  return {
    dryRun: a.dryRun,
    created: a.created + b.created,
    updated: a.updated + b.updated,
    unchanged: a.unchanged + b.unchanged,
    preBound: a.preBound + b.preBound,
    unresolved: {
      awaiting_first_session: a.unresolved.awaiting_first_session + b.unresolved.awaiting_first_session,
      no_email: a.unresolved.no_email + b.unresolved.no_email,
      email_shared: a.unresolved.email_shared + b.unresolved.email_shared,
      binding_undone: a.unresolved.binding_undone + b.unresolved.binding_undone,
    },
  };
}

/**
 * Sends one batch through the client, retrying transient failures. A batch refused as too large
 * (a proxy in front with a smaller limit than the server's) is halved and sent again, as often as
 * needed, down to single customers.
 */
export function createBatchSender(
  options: BatchSenderOptions,
): (customers: CustomerToImport[]) => Promise<CustomersImported> {
  const send = async (customers: CustomerToImport[]): Promise<CustomersImported> => {
    try {
      return await withRetry(
        () => options.client.importCustomers({ customers, dryRun: options.dryRun }),
        options.policy,
        options.onRetry,
      );
    } catch (error) {
      if (!(error instanceof BillingOSError) || error.code !== "PAYLOAD_TOO_LARGE" || customers.length === 1)
        throw error;
      const half = Math.ceil(customers.length / 2);
      return addImported(await send(customers.slice(0, half)), await send(customers.slice(half)));
    }
  };
  return send;
}

/**
 * Sends the batches in file order, one request at a time, while the next batch is read and
 * mapped: reading overlaps the server's work instead of waiting for it. One request in flight
 * keeps the server's per-batch counts in file order and its write lock free for other callers.
 */
export async function sendInOrder(
  batches: AsyncIterable<{ customers: CustomerToImport[] }>,
  send: (customers: CustomerToImport[]) => Promise<CustomersImported>,
  onResult: (result: CustomersImported) => void,
): Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  try {
    for await (const batch of batches) {
      await inFlight;
      inFlight = send(batch.customers).then(onResult);
      // Rethrown by the next `await inFlight`; this only keeps it from counting as unhandled meanwhile.
      inFlight.catch(() => {});
    }
  } catch (error) {
    // The file failed while a batch was on its way: let it land, so that the report counts what
    // the server holds. The file's error is the one to tell.
    await inFlight.catch(() => {});
    throw error;
  }
  await inFlight;
}
