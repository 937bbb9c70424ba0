// A small seeded PRNG (sfc32, seeded through splitmix32) so an organisation generated from a seed is the same on
// every machine and every run. Not for anything secret: sandbox keys only need to look real and be reproducible.

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** sfc32 as a closure over plain locals: V8 keeps them in registers, several times faster than private fields. */
function sfc32(seed: number): () => number {
  const mix = splitmix32(seed);
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
}

export class SeededRandom {
  readonly nextUint32: () => number;
  /** A number in [0, 1); a bound function, so it can be handed on as a RandomSource. */
  readonly next: () => number;

  constructor(seed: number) {
    const generator = sfc32(seed);
    for (let i = 0; i < 12; i++) generator();
    this.nextUint32 = generator;
    this.next = () => generator() / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let i = 0; i < length; i += 4) {
      const value = this.nextUint32();
      for (let k = 0; k < 4 && i + k < length; k++) buffer[i + k] = (value >>> (k * 8)) & 0xff;
    }
    return buffer;
  }
}
