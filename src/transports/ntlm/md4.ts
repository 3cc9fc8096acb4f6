// MD4 (RFC 1320) in plain TypeScript: Node 20's OpenSSL 3 no longer provides it, and NTLM's NT hash
// is MD4(UTF-16LE(password)). Only short inputs are hashed, so clarity beats speed here.

const ROUNDS: ReadonlyArray<{ order: number[]; shifts: number[]; k: number; f: (x: number, y: number, z: number) => number }> = [
  { order: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], shifts: [3, 7, 11, 19], k: 0, f: (x, y, z) => (x & y) | (~x & z) },
  { order: [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], shifts: [3, 5, 9, 13], k: 0x5a827999, f: (x, y, z) => (x & y) | (x & z) | (y & z) },
  { order: [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], shifts: [3, 9, 11, 15], k: 0x6ed9eba1, f: (x, y, z) => x ^ y ^ z },
];

export function md4(input: Uint8Array): Buffer {
  const padLen = ((input.length + 8) >> 6) * 64 + 64;
  const msg = Buffer.alloc(padLen);
  msg.set(input, 0);
  msg[input.length] = 0x80;
  msg.writeUInt32LE((input.length * 8) >>> 0, padLen - 8);
  msg.writeUInt32LE(Math.floor(input.length / 0x20000000), padLen - 4);

  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const x = new Array<number>(16).fill(0);
  for (let off = 0; off < padLen; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = msg.readInt32LE(off + i * 4);
    // v holds a, b, c, d; step k updates register (4 - k % 4) % 4, i.e. a, d, c, b, a, ...
    const v = h.slice();
    for (const round of ROUNDS) {
      for (let step = 0; step < 16; step++) {
        const t = (4 - (step % 4)) % 4;
        const sum = (v[t]! + round.f(v[(t + 1) % 4]!, v[(t + 2) % 4]!, v[(t + 3) % 4]!) + x[round.order[step]!]! + round.k) | 0;
        const s = round.shifts[step % 4]!;
        v[t] = (sum << s) | (sum >>> (32 - s));
      }
    }
    for (let i = 0; i < 4; i++) h[i] = (h[i]! + v[i]!) | 0;
  }
  const out = Buffer.alloc(16);
  h.forEach((word, i) => out.writeInt32LE(word, i * 4));
  return out;
}
