/**
 * A seeded generator for everything in the project that must draw the same numbers on every run:
 * bootstrap resampling, the fixed data splits, synthetic scenes for benchmarks and tests.
 * mulberry32 is small, fast and well distributed for these uses (not for cryptography).
 */

/** A function giving uniform numbers in [0, 1), the same sequence for the same `seed`. */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
