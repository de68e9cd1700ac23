/**
 * Statistics for comparing a TTA policy with no TTA on the same examples.
 * @since 0.3.0
 */

const logGamma = (x: number): number => {
  // Lanczos approximation (g = 7, n = 9): ~15 significant digits for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x)
  const z = x - 1
  let a = c[0] ?? 1
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += (c[i] ?? 0) / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

const logChoose = (n: number, k: number): number => logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1)

/**
 * Exact two-sided McNemar test: of the examples on which two classifiers disagree in
 * correctness, `fixed` became right and `broken` became wrong. Returns the p-value of
 * "fixed and broken are equally likely" (binomial, p = ½), computed in log space so that
 * p-values like 1e-48 do not underflow.
 * @example
 * import { mcnemar } from 'tta-lens'
 * assert.ok(mcnemar(118, 70) < 0.001)
 * assert.strictEqual(mcnemar(5, 5), 1)
 * @category statistics
 */
export const mcnemar = (fixed: number, broken: number): number => {
  const n = fixed + broken
  if (n === 0) return 1
  const k = Math.min(fixed, broken)
  const terms: number[] = []
  for (let i = 0; i <= k; i++) terms.push(logChoose(n, i) - n * Math.LN2)
  const max = Math.max(...terms)
  const logTail = max + Math.log(terms.reduce((s, v) => s + Math.exp(v - max), 0))
  return Math.min(1, 2 * Math.exp(logTail))
}

/**
 * Compact p-value text for tables: two significant digits from 0.001 up (`p = 0.032`), one digit
 * in exponent form below (`p ≈ 6e-4`, `p ≈ 1e-48`), and `p < 1e-300` past what a double holds.
 * @example
 * import { mcnemar, showP } from 'tta-lens'
 * assert.strictEqual(showP(0.0321), 'p = 0.032')
 * assert.strictEqual(showP(0.00061), 'p ≈ 6e-4')
 * assert.strictEqual(showP(mcnemar(5, 5)), 'p = 1.0')
 * assert.strictEqual(showP(mcnemar(54, 5948)), 'p < 1e-300')
 * @category statistics
 */
export const showP = (p: number): string =>
  p >= 0.001 ? `p = ${p.toPrecision(2)}` : p < 1e-300 ? 'p < 1e-300' : `p ≈ ${p.toExponential(0)}`
