/**
 * A time as people read it, with its zone ("Dec 2, 2026, 04:30:00 PM EST"): a bare "4:30 PM" is
 * ambiguous to someone comparing it with server logs in UTC or with a colleague elsewhere.
 * Locale and zone default to the reader's (the browser's).
 */
export function formatTime(date: Date, locale?: string, timeZone?: string): string {
  return new Intl.DateTimeFormat(locale, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
    timeZone,
  }).format(date);
}
