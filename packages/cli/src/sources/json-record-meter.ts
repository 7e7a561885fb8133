import { Transform } from "node:stream";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** Keys of the top-level object longer than this are not remembered for locations. */
const MAX_KEY_BYTES = 64;

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Measures the records of a JSON document as its bytes go by, before any parser sees them: the
 * elements of a top-level array (`array`), or of the arrays that are values of a top-level
 * object, such as a Stripe list's `data` (`list`). stream-json has no size limit of its own and
 * packs a string whole before handing it on, so only a count ahead of it bounds its memory.
 *
 * A record is every byte between two separators (`,` `:` brackets) at the records' level or
 * above, whitespace there excepted: an element as it is written in the file (indentation
 * inside it included), or a key or value of the top-level object.
 * The meter follows strings and nesting only; whether the JSON is valid is the parser's job.
 */
export class JsonRecordMeter {
  readonly #level: number;
  #depth = 0;
  #inString = false;
  #escaped = false;
  #offset = 0;
  #recordBytes = 0;
  #recordStart = 0;
  /** The array holding the records at #level, if that container is an array. */
  #array: { name: string; index: number } | undefined;
  // The last key of the top-level object, for naming a list's array (`data`).
  #expectKey = false;
  #keyBytes: number[] | undefined;
  #lastKey = "";

  constructor(
    shape: "array" | "list",
    private readonly maxBytes: number,
  ) {
    this.#level = shape === "array" ? 1 : 2;
  }

  /**
   * Reads the next bytes of the document. Returns where the first record over the limit starts
   * (`[3]`, `data[3]`, or `the value at byte N`) as soon as that record passes it, else undefined.
   */
  scan(chunk: Buffer): string | undefined {
    const level = this.#level;
    let i = 0;
    // Bytes counted per run of a string, per byte elsewhere; checked after each step.
    while (i < chunk.length) {
      if (this.#inString) {
        // The bulk of a file: run to the next quote or backslash, counting as one.
        let end = i;
        while (end < chunk.length && (this.#escaped || (chunk[end] !== QUOTE && chunk[end] !== BACKSLASH))) {
          this.#escaped = false;
          end++;
        }
        if (this.#keyBytes !== undefined && this.#keyBytes.length < MAX_KEY_BYTES) {
          for (const byte of chunk.subarray(i, Math.min(end, i + MAX_KEY_BYTES))) this.#keyBytes.push(byte);
        }
        if (end < chunk.length) {
          if (chunk[end] === BACKSLASH) this.#escaped = true;
          else this.#endString();
          end++;
        }
        this.#count(end - i, i);
        i = end;
      } else {
        const byte = chunk[i]!;
        if (
          this.#depth > level ||
          (this.#depth === level && byte !== COMMA && byte !== CLOSE_BRACKET && byte !== CLOSE_BRACE)
        ) {
          // Inside a record, its own closing bracket included; whitespace around it is not.
          this.#structure(byte);
          if (this.#depth > level || !isWhitespace(byte)) this.#count(1, i);
        } else {
          this.#separator(byte, i);
        }
        i++;
      }
      if (this.#recordBytes > this.maxBytes) return this.#location();
    }
    this.#offset += chunk.length;
    return undefined;
  }

  /** Adds `bytes` read at chunk position `at` to the current record. */
  #count(bytes: number, at: number): void {
    if (this.#recordBytes === 0) this.#recordStart = this.#offset + at;
    this.#recordBytes += bytes;
  }

  #location(): string {
    if (this.#depth >= this.#level && this.#array !== undefined) return `${this.#array.name}[${this.#array.index}]`;
    return `the value at byte ${this.#recordStart}`;
  }

  #endString(): void {
    this.#inString = false;
    if (this.#keyBytes !== undefined) {
      this.#lastKey = Buffer.from(this.#keyBytes).toString("utf8");
      this.#keyBytes = undefined;
    }
  }

  /** A byte inside a record: only nesting and strings matter. */
  #structure(byte: number): void {
    if (byte === QUOTE) this.#inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) this.#depth++;
    else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) this.#depth--;
  }

  /** A byte above the records (or a `,` / closing bracket at their level): it ends the current record. */
  #separator(byte: number, at: number): void {
    const level = this.#level;
    switch (byte) {
      case OPEN_BRACE:
      case OPEN_BRACKET:
        this.#depth++;
        if (this.#depth === level)
          this.#array = byte === OPEN_BRACKET ? { name: level === 1 ? "" : this.#lastKey, index: 0 } : undefined;
        if (this.#depth === 1) this.#expectKey = byte === OPEN_BRACE;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        this.#depth--;
        break;
      case COMMA:
        if (this.#depth === level && this.#array !== undefined) this.#array.index++;
        if (this.#depth === 1) this.#expectKey = level === 2;
        break;
      case COLON:
        if (this.#depth === 1) this.#expectKey = false;
        break;
      case QUOTE:
        // A string above the records' level: a key or a value of the top-level object.
        this.#inString = true;
        if (this.#depth === 1 && this.#expectKey) this.#keyBytes = [];
        this.#count(1, at);
        return;
      default:
        // A number, true, false or null above the records' level is a record of its own.
        if (!isWhitespace(byte)) this.#count(1, at);
        return;
    }
    this.#recordBytes = 0;
  }
}

/**
 * A pass-through stage that hands the bytes on unchanged until a record passes `maxBytes`, then
 * fails with `tooLarge(location)`: the parser after it never holds more than the limit of one
 * record (plus one read).
 */
export function jsonRecordLimit(
  shape: "array" | "list",
  maxBytes: number,
  tooLarge: (location: string) => Error,
): Transform {
  const meter = new JsonRecordMeter(shape, maxBytes);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const over = meter.scan(chunk);
      if (over === undefined) callback(null, chunk);
      else callback(tooLarge(over));
    },
  });
}
