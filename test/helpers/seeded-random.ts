/**
 * A seeded generator of 32-bit unsigned integers (mulberry32), for the tests' random inputs: the
 * low bits of a power-of-two LCG cycle too soon to mix a few dozen pieces or chars freely (one
 * cycled every 16 values and never put two spaces in a row). Same seed, same sequence.
 */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}
