const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into lines (LF or CRLF), holding at most `maxBytes` of a line: a line
 * that runs past it makes `tooLong(lineNumber)` be thrown as soon as it does, before the rest
 * of it is read. node:readline, by contrast, keeps a line of any length whole in memory.
 * Splitting bytes on LF is safe for UTF-8, where 0x0A never occurs inside a character.
 */
export async function* boundedLines(
  chunks: AsyncIterable<Buffer>,
  maxBytes: number,
  tooLong: (lineNumber: number) => Error,
): AsyncGenerator<string> {
  let lineNumber = 1;
  // The start of the current line, from earlier chunks.
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const finish = (tail: Buffer): string => {
    const whole = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    pending = [];
    pendingBytes = 0;
    const end = whole.length > 0 && whole[whole.length - 1] === CR ? whole.length - 1 : whole.length;
    if (end > maxBytes) throw tooLong(lineNumber);
    return whole.toString("utf8", 0, end);
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (let lf = chunk.indexOf(LF, start); lf !== -1; lf = chunk.indexOf(LF, start)) {
      yield finish(chunk.subarray(start, lf));
      lineNumber++;
      start = lf + 1;
    }
    if (start < chunk.length) {
      pendingBytes += chunk.length - start;
      // One byte of slack for the CR of a CRLF that may come next.
      if (pendingBytes > maxBytes + 1) throw tooLong(lineNumber);
      pending.push(chunk.subarray(start));
    }
  }
  if (pendingBytes > 0) yield finish(Buffer.alloc(0));
}
