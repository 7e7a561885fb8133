import { MAX_EXTERNAL_ID_LENGTH, PRE_BIND_METADATA_KEYS } from "@billingos/contracts";

/** The merchant's user id carried in Stripe metadata, under the first key of PRE_BIND_METADATA_KEYS that has one. */
export function externalUserIdFromMetadata(metadata: Record<string, string> | null | undefined): string | null {
  if (!metadata) return null;
  for (const key of PRE_BIND_METADATA_KEYS) {
    const value = metadata[key]?.trim();
    if (value && value.length <= MAX_EXTERNAL_ID_LENGTH) return value;
  }
  return null;
}
