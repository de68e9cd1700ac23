// The code of the walk-through in docs/laws.md, compiled and run. Keep the two in sync.
import { describe, expect, it } from 'vitest'

// --- docs/laws.md: walk-through ---------------------------------------------------------------
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { custom, laws, orThrow, product, transforms as T, views } from '../../src/index.js' // 'tta-lens' for users

// 1. A transpose: view pixel (i, j) reads input pixel (j, i); the way back is the same gather.
const transpose = custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
  points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
})

// 2. Check it like a built-in: every law its views call for, 200 random inputs each.
const verdict = laws.check(transpose)
const summary = E.match(
  (v: laws.LawViolation) => v.message,
  (r: laws.LawReport) => `${r.subject}: ${r.laws.length} law runs, at least ${r.minRuns} inputs each`,
)(verdict)
// summary === 'transpose: 18 law runs, at least 200 inputs each'

// 3. A slip in the way back: it anti-transposes. The kit names the law, the view and an input.
const slipped = custom({
  name: 'transpose',
  forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
  backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j, h, w) => [h - 1 - j, w - 1 - i] },
})
const caught = laws.check(slipped)
// E.isLeft(caught) && caught.left.law === 'iso' && caught.left.view === 'transpose(true)'

// 4. In a product with built-ins: every view (here 8) gets the same laws.
const withTurns = laws.check(product(T.hflip(), orThrow(transpose), orThrow(T.rotate90([90]))))

// 5. Or use the arbitraries and law predicates in your own properties (here: the iso law by hand).
const properties = views(product(orThrow(transpose))).map((view) =>
  fc.property(laws.arbitraries.imageAndViewFrame(view), ({ x, y }) => laws.iso(view, x, y).holds))
// for (const p of properties) fc.assert(p, { numRuns: 200 })
// --- end of walk-through -----------------------------------------------------------------------

describe('docs/laws.md walk-through', () => {
  it('checks the transpose', () => {
    expect(summary).toBe('transpose: 18 law runs, at least 200 inputs each')
    expect(E.isRight(verdict) && verdict.right.laws.map((l) => l.law)).toEqual([
      'shape', 'bounds', 'iso', 'keypoints', 'keypoint-pixel', 'box-round-trip', 'box-pixel', 'label', 'simplify',
      'shape', 'bounds', 'iso', 'keypoints', 'keypoint-pixel', 'box-round-trip', 'box-pixel', 'label', 'simplify',
    ])
  })

  it('catches the slip with the iso law', () => {
    expect(E.isLeft(caught) && caught.left.law === 'iso' && caught.left.view === 'transpose(true)').toBe(true)
  })

  it('checks the product', () => {
    expect(E.isRight(withTurns) && withTurns.right.views).toBe(8)
    expect(E.isRight(withTurns) && withTurns.right.minRuns).toBeGreaterThanOrEqual(200)
  })

  it('runs the hand-made properties', () => {
    expect(properties).toHaveLength(2)
    for (const p of properties) fc.assert(p, { numRuns: 200 })
  })
})
