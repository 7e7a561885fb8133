import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundedLines } from "../src/sources/bounded-lines.js";
import { JsonRecordMeter } from "../src/sources/json-record-meter.js";

/** `bytes` cut at the given positions (sorted, deduplicated, inside the buffer). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.subarray(start, point));
    start = Math.max(start, point);
  }
  return chunks;
}

function meterVerdict(shape: "array" | "list", chunks: Buffer[], limit: number): string | undefined {
  const meter = new JsonRecordMeter(shape, limit);
  for (const chunk of chunks) {
    const over = meter.scan(chunk);
    if (over !== undefined) return over;
  }
  return undefined;
}

/** Any JSON value, its strings holding quotes, backslashes, brackets and characters of any width. */
const element = fc.jsonValue({ maxDepth: 3 });
const cuts = fc.array(fc.nat({ max: 100_000 }), { maxLength: 30 });

describe("JsonRecordMeter: the records of a JSON document measured byte by byte, before parsing", () => {
  it("refuses exactly the first element longer than the limit, at its index, however the bytes are cut", () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 12 }),
        fc.integer({ min: 16, max: 300 }),
        cuts,
        fc.boolean(),
        (elements, limit, cutAt, asList) => {
          const texts = elements.map((value) => JSON.stringify(value));
          const body = `[${texts.join(",")}]`;
          const document = asList ? `{"object":"list","url":"/v1/customers","data":${body},"has_more":false}` : body;
          const firstOver = texts.findIndex((text) => Buffer.byteLength(text) > limit);
          const expected = firstOver === -1 ? undefined : `${asList ? "data" : ""}[${firstOver}]`;
          expect(meterVerdict(asList ? "list" : "array", chunked(Buffer.from(document), cutAt), limit)).toBe(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("counts a pretty-printed element as written, its indentation included, not the whitespace around it", () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 8 }),
        fc.integer({ min: 16, max: 300 }),
        cuts,
        (elements, limit, cutAt) => {
          const document = Buffer.from(JSON.stringify({ object: "list", data: elements, has_more: false }, null, 2));
          // Each element as it appears in the document: indented two levels deep.
          const texts = elements.map((value) => JSON.stringify(value, null, 2).replace(/\n/g, "\n    "));
          const firstOver = texts.findIndex((text) => Buffer.byteLength(text) > limit);
          expect(meterVerdict("list", chunked(document, cutAt), limit)).toBe(
            firstOver === -1 ? undefined : `data[${firstOver}]`,
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  it.each([
    ["a huge string", (pad: string) => `[{"id":"cus_1"},{"id":"cus_2","description":"${pad}"}]`, "array", "[1]"],
    ["a huge number", (pad: string) => `[{"id":"cus_1"},${pad.replace(/x/g, "9")}]`, "array", "[1]"],
    ["many small fields", (pad: string) => `[{${pad.replace(/xxxxxxxx/g, '"a":[1],')}"id":"cus_1"}]`, "array", "[0]"],
    [
      "escaped quotes that do not end the string",
      (pad: string) => `[{"n":"${pad.replace(/xx/g, '\\"')}"}]`,
      "array",
      "[0]",
    ],
    [
      "a huge value beside data",
      (pad: string) => `{"object":"list","url":"${pad}","data":[]}`,
      "list",
      "the value at byte 23",
    ],
    [
      "a huge key beside data",
      (pad: string) => `{"object":"list","${pad}":1,"data":[]}`,
      "list",
      "the value at byte 17",
    ],
    [
      "a list element",
      (pad: string) => `{"object":"list","data":[{"id":"cus_1"},{"id":"cus_2"},{"d":"${pad}"}]}`,
      "list",
      "data[2]",
    ],
  ] as const)("refuses %s as soon as it passes the limit", (_name, document, shape, location) => {
    const limit = 64 * 1024;
    const text = Buffer.from(document("x".repeat(4 * limit)));
    const meter = new JsonRecordMeter(shape, limit);
    // Fed 1 KiB at a time, it stops within a KiB of the limit, not at the end of the record.
    let fed = 0;
    let over: string | undefined;
    for (const chunk of chunked(
      text,
      Array.from({ length: text.length / 1024 }, (_, i) => (i + 1) * 1024),
    )) {
      fed += chunk.length;
      over = meter.scan(chunk);
      if (over !== undefined) break;
    }
    expect(over).toBe(location);
    expect(fed).toBeLessThanOrEqual(limit + 2048);
  });

  it("lets a real Stripe list through at the default limit", () => {
    const customer = {
      id: "cus_1",
      object: "customer",
      email: "a@example.com",
      metadata: { plan: "pro" },
      description: 'é ü " ] } \\',
    };
    const document = Buffer.from(
      JSON.stringify(
        { object: "list", data: Array.from({ length: 100 }, () => customer), has_more: true, url: "/v1/customers" },
        null,
        2,
      ),
    );
    expect(meterVerdict("list", [document], 1024 * 1024)).toBeUndefined();
    expect(meterVerdict("list", [document], 100)).toBe("data[0]");
  });
});

async function* source(chunks: Buffer[]): AsyncGenerator<Buffer> {
  yield* chunks;
}

async function linesOf(chunks: Buffer[], limit: number): Promise<{ lines: string[]; refused?: number }> {
  const lines: string[] = [];
  try {
    for await (const line of boundedLines(source(chunks), limit, (lineNumber) =>
      Object.assign(new Error("too long"), { lineNumber }),
    ))
      lines.push(line);
    return { lines };
  } catch (error) {
    return { lines, refused: (error as { lineNumber: number }).lineNumber };
  }
}

describe("boundedLines: lines split from bytes, none held past the limit", () => {
  it("yields the lines of any text (LF or CRLF, any characters), or refuses the first too long, however the bytes are cut", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "binary", maxLength: 40 }).map((line) => line.replace(/[\r\n]/g, "")),
          { maxLength: 10 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 80 }),
        cuts,
        async (lines, crlf, finalBreak, limit, cutAt) => {
          const text = lines.join(crlf ? "\r\n" : "\n") + (finalBreak && lines.length > 0 ? "\n" : "");
          const expected = text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/);
          const tooLong = expected.findIndex((line) => Buffer.byteLength(line) > limit);
          const result = await linesOf(chunked(Buffer.from(text), cutAt), limit);
          if (tooLong === -1) {
            expect(result).toEqual({ lines: expected });
          } else {
            expect(result).toEqual({ lines: expected.slice(0, tooLong), refused: tooLong + 1 });
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("refuses a line as soon as it passes the limit, before its end is read", async () => {
    let read = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"id":"cus_1"}\n{"id":"cus_2","description":"');
      for (;;) {
        read += 64 * 1024;
        yield Buffer.alloc(64 * 1024, "x");
      }
    }
    const lines: string[] = [];
    await expect(
      (async () => {
        for await (const line of boundedLines(endless(), 1024 * 1024, (lineNumber) => new Error(`line ${lineNumber}`)))
          lines.push(line);
      })(),
    ).rejects.toThrow("line 2");
    expect(lines).toEqual(['{"id":"cus_1"}']);
    expect(read).toBeLessThanOrEqual(1024 * 1024 + 64 * 1024);
  });
});
