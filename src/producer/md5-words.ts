/**
 * MD5 (RFC 1321) of a partition key's UTF-8 bytes, computed in JavaScript into four 32-bit words, for routing a
 * record to its shard without a native call, a Hash object, a Buffer or a hex string per record. For the short keys
 * Kinesis takes (at most 256 characters) this is several times cheaper than `crypto.hash('md5', key, 'hex')`;
 * `test/unit/producer/md5-words.spec.ts` checks it against `node:crypto` for ASCII, multi-byte and surrogate keys
 * of every length up to the limit.
 */

/** The 64 additive constants: floor(|sin(i + 1)| * 2^32). */
const SINES = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0);
/** Left-rotation amounts, four per round. */
const SHIFTS = Uint8Array.from([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

/** Room for the longest key (256 UTF-16 units, at most 3 UTF-8 bytes each) plus padding, in whole blocks. */
const SCRATCH_BYTES = 832;
const scratch = new Uint8Array(SCRATCH_BYTES);
const encoder = new TextEncoder();
/** The 16 little-endian words of the block being hashed. */
const block = new Int32Array(16);

/**
 * The hash key Kinesis derives from `partitionKey` (MD5 of its UTF-8 bytes read as a 128-bit big-endian
 * integer), written into `out` as four 32-bit unsigned words, most significant first: compare them in order to
 * compare hash keys. Keys longer than 256 characters are not supported (Kinesis refuses them).
 *
 * @param partitionKey - 1 to 256 characters
 * @param out - receives the four words
 */
export function partitionKeyHashWords(partitionKey: string, out: Uint32Array): void {
  const length = encodeUtf8(partitionKey);
  // Padding: 0x80, zeros up to 56 mod 64, then the bit length as a 64-bit little-endian integer.
  const total = (((length + 8) >>> 6) << 6) + 64;
  scratch[length] = 0x80;
  scratch.fill(0, length + 1, total - 8);
  const bits = length * 8;
  scratch[total - 8] = bits & 0xff;
  scratch[total - 7] = (bits >>> 8) & 0xff;
  scratch[total - 6] = (bits >>> 16) & 0xff;
  scratch[total - 5] = 0;
  scratch[total - 4] = 0;
  scratch[total - 3] = 0;
  scratch[total - 2] = 0;
  scratch[total - 1] = 0;

  let a0 = 0x67452301;
  let b0 = 0xefcdab89 | 0;
  let c0 = 0x98badcfe | 0;
  let d0 = 0x10325476;
  for (let offset = 0; offset < total; offset += 64) {
    for (let w = 0; w < 16; w++) {
      const p = offset + w * 4;
      block[w] = scratch[p]! | (scratch[p + 1]! << 8) | (scratch[p + 2]! << 16) | (scratch[p + 3]! << 24);
    }
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    // Four rounds of 16 steps; each step: a = b + rotl(a + f(b, c, d) + sine + word, shift), then rotate (a, b, c, d).
    for (let i = 0; i < 16; i++) {
      const sum = (a + ((b & c) | (~b & d)) + SINES[i]! + block[i]!) | 0;
      const shift = SHIFTS[i & 3]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    for (let i = 16; i < 32; i++) {
      const sum = (a + ((d & b) | (~d & c)) + SINES[i]! + block[(5 * i + 1) & 15]!) | 0;
      const shift = SHIFTS[4 | (i & 3)]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    for (let i = 32; i < 48; i++) {
      const sum = (a + (b ^ c ^ d) + SINES[i]! + block[(3 * i + 5) & 15]!) | 0;
      const shift = SHIFTS[8 | (i & 3)]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    for (let i = 48; i < 64; i++) {
      const sum = (a + (c ^ (b | ~d)) + SINES[i]! + block[(7 * i) & 15]!) | 0;
      const shift = SHIFTS[12 | (i & 3)]!;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  // The digest is a0..d0 as little-endian bytes; read as a big-endian integer, each word is byte-swapped.
  out[0] = byteSwap(a0);
  out[1] = byteSwap(b0);
  out[2] = byteSwap(c0);
  out[3] = byteSwap(d0);
}

function byteSwap(word: number): number {
  return (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0;
}

/** Writes the UTF-8 bytes of `key` to the scratch buffer and returns their count. */
function encodeUtf8(key: string): number {
  const length = key.length;
  if (length > 256) throw new RangeError(`a partition key has at most 256 characters, got ${length}`);
  for (let i = 0; i < length; i++) {
    const code = key.charCodeAt(i);
    if (code >= 0x80) return encoder.encodeInto(key, scratch).written;
    scratch[i] = code;
  }
  return length;
}
