// CRC-32 (IEEE 802.3). It detects every error burst of up to 32 bits, so any single changed
// character of a token (an 8-bit burst) always changes the checksum.
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of an ASCII string, or of its first `length` characters (other code units are masked). */
export function crc32(ascii: string, length: number = ascii.length): number {
  let crc = 0xffffffff;
  for (let i = 0; i < length; i++) {
    crc = TABLE[(crc ^ ascii.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}
