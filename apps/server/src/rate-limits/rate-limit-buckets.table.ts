/** A token bucket of the database rate limiter (migration 2026-12-02-0040). Times in ms since the epoch. */
export interface RateLimitBucketsTable {
  /** The limit's name and the key it limits: "create:key_…". */
  bucket: string;
  /** Units left at `updated_at`; negative while a call costing more than a whole bucket is paid off. */
  tokens: number;
  updated_at: number;
  /** When the bucket is full again if nothing takes from it: past it, the row may be deleted. */
  full_at: number;
  /** 1 if the last take was refused (and took nothing), else 0: what RETURNING tells the caller. */
  refused: number;
}
