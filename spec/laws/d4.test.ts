import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { d4IndexMap, dihedral4, laws, views } from '../../src/index.js'
import { thenMap } from '../../src/transform/d4.js'

const { after, d4Elements } = dihedral4
const sizes: readonly (readonly [number, number])[] = [[1, 2], [2, 5], [4, 3], [7, 7]]
const points: readonly (readonly [number, number])[] = [[0, 0], [0.25, 0.75], [1, 0.5]]

describe('D4 group laws', () => {
  it('checkD4: identity, associativity, inverses, closure, index maps and point maps (200 runs each)', () => {
    const report = laws.checkD4()
    if (E.isLeft(report)) throw new Error(report.left.message)
    expect(report.right.minRuns).toBeGreaterThanOrEqual(200)
    expect(report.right.laws.map((l) => l.law)).toEqual(['d4-identity', 'd4-associativity', 'd4-inverse', 'd4-closure', 'd4-index-map', 'd4-point-map'])
  })

  it('holds exhaustively: all 8³ triples, all pairs on several non-square sizes and points', () => {
    for (const a of d4Elements) {
      expect(laws.groupIdentity(a).holds).toBe(true)
      expect(laws.groupInverse(a).holds).toBe(true)
      for (const b of d4Elements) {
        expect(laws.groupClosure(a, b).holds).toBe(true)
        for (const [h, w] of sizes) expect(laws.afterMatchesIndexMaps(a, b, h, w)).toEqual({ holds: true, applied: true })
        for (const p of points) expect(laws.afterMatchesPointMaps(a, b, p).holds).toBe(true)
        for (const c of d4Elements) expect(laws.groupAssociativity(a, b, c).holds).toBe(true)
      }
    }
  })

  it('is sensitive to order: D4 is not abelian, and composing the maps the other way round disagrees', () => {
    const rot90 = dihedral4.d4(1, false)
    const hflip = dihedral4.d4(0, true)
    expect(dihedral4.equals(after(rot90, hflip), after(hflip, rot90))).toBe(false)
    const direct = d4IndexMap(after(rot90, hflip), 2, 5) // hflip first, then rot90
    expect(direct).toEqual(thenMap(d4IndexMap(hflip, 2, 5), d4IndexMap(rot90, 2, 5)))
    expect(direct).not.toEqual(thenMap(d4IndexMap(rot90, 2, 5), d4IndexMap(hflip, 5, 2)))
  })

  it('the D4 element of each view of a random flip/turn product composes its factors, and runs like them (200 runs)', () => {
    const details = fc.check(fc.property(laws.arbitraries.flipTurnProduct(), laws.arbitraries.image(), (p, x) =>
      views(p).every((v) => {
        const raw = p.factors.flatMap((f, k) => f.options.find((o) => o.param === v.params[k])?.steps ?? [])
        const composed = raw.reduce((g, step) => (step.op === 'd4' ? after(step.element, g) : g), dihedral4.d4Identity)
        return v.d4 !== undefined && dihedral4.equals(v.d4, composed) && laws.simplified(v.steps, raw, x).holds
      })), { numRuns: 200 })
    expect(details.failed).toBe(false)
  })
})
