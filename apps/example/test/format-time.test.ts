import { describe, expect, it } from "vitest";
import { formatTime } from "../src/lib/format-time";

describe("times on the example's pages", () => {
  const at = new Date("2026-12-02T16:30:05Z");

  it("say which zone they are in", () => {
    expect(formatTime(at, "en-US", "UTC")).toBe("Dec 2, 2026, 04:30:05 PM UTC");
    expect(formatTime(at, "en-US", "America/New_York")).toBe("Dec 2, 2026, 11:30:05 AM EST");
    expect(formatTime(at, "en-GB", "Asia/Kolkata")).toBe("2 Dec 2026, 22:00:05 GMT+5:30");
  });

  it("default to the reader's zone, still named", () => {
    const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
      .formatToParts(at)
      .find((part) => part.type === "timeZoneName")?.value;
    expect(zone).toBeTruthy();
    expect(formatTime(at)).toContain(zone);
  });
});
