/**
 * The dihedral group D4 as an algebra: composition, inverse, identity and the full table.
 *
 * With r a quarter turn and f a left–right mirror, every element is r^k·f^s and f·r = r⁻¹·f, so
 * (r^a f^s)(r^b f^t) = r^(a + (−1)^s·b) f^(s+t). Laws (identity, associativity, inverses, closure)
 * are property-tested in spec/laws, and against the index maps of `transform/d4`.
 *
 * @since 0.1.0
 */
import type { D4Element, Quarter } from '../transform/d4.js'

const quarter = (k: number): Quarter => {
  const m = ((k % 4) + 4) % 4
  return m === 0 ? 0 : m === 1 ? 1 : m === 2 ? 2 : 3
}

/**
 * Builds an element from any number of quarter turns (reduced mod 4, negatives included) and a flip:
 * mirror first, then turn. Use it to write a D4 element without normalising the turn count yourself.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * assert.deepStrictEqual(dihedral4.d4(-1, false), { turns: 3, flip: false })
 * assert.ok(dihedral4.equals(dihedral4.d4(5, true), dihedral4.d4(1, true)))
 * @category constructors
 */
export const d4 = (turns: number, flip: boolean): D4Element => ({ turns: quarter(turns), flip })

/**
 * The identity element (no flip, no turn): the unit of {@link after}.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const g = dihedral4.d4(3, true)
 * assert.ok(dihedral4.equals(dihedral4.after(g, dihedral4.d4Identity), g))
 * assert.strictEqual(dihedral4.d4Name(dihedral4.d4Identity), 'id')
 * @category constructors
 */
export const d4Identity: D4Element = { turns: 0, flip: false }

/**
 * All 8 elements, rotations first: iterate over it to check something for the whole group.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * assert.deepStrictEqual(dihedral4.d4Elements.map(dihedral4.d4Name),
 *   ['id', 'rot90', 'rot180', 'rot270', 'hflip', 'hflip·rot90', 'hflip·rot180', 'hflip·rot270'])
 * @category constructors
 */
export const d4Elements: readonly D4Element[] = [false, true].flatMap((flip) => [0, 1, 2, 3].map((k) => d4(k, flip)))

/**
 * `after(second, first)`: apply `first`, then `second` (function composition order). Chains of
 * flips and turns collapse to one element this way, so a view runs a single gather.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const { after, d4, d4Name } = dihedral4
 * assert.strictEqual(d4Name(after(d4(1, false), d4(0, true))), 'hflip·rot90')   // mirror, then turn
 * assert.strictEqual(d4Name(after(d4(0, true), d4(1, false))), 'hflip·rot270')  // turn, then mirror
 * @category combinators
 */
export const after = (second: D4Element, first: D4Element): D4Element =>
  d4(second.turns + (second.flip ? -first.turns : first.turns), second.flip !== first.flip)

/**
 * The element that undoes `g`: how a view's prediction is mapped back. Turns invert to the opposite
 * turn; every element with a flip is its own inverse.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const { after, d4, inverse, isIdentity } = dihedral4
 * assert.deepStrictEqual(inverse(d4(1, false)), d4(3, false))
 * assert.deepStrictEqual(inverse(d4(1, true)), d4(1, true))
 * assert.ok(dihedral4.d4Elements.every((g) => isIdentity(after(inverse(g), g))))
 * @category combinators
 */
export const inverse = (g: D4Element): D4Element => (g.flip ? g : d4(-g.turns, false))

/**
 * Structural equality of two elements; use it rather than `===`, since equal elements are often
 * distinct objects.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const { d4, equals } = dihedral4
 * assert.ok(equals(d4(4, false), dihedral4.d4Identity))
 * assert.ok(!equals(d4(1, false), d4(1, true)))
 * @category utils
 */
export const equals = (a: D4Element, b: D4Element): boolean => a.turns === b.turns && a.flip === b.flip

/**
 * Is the element the identity? A view whose chain collapses to it needs no gather at all.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const { after, d4, isIdentity } = dihedral4
 * assert.ok(isIdentity(after(d4(0, true), d4(0, true))))   // two mirrors cancel
 * assert.ok(!isIdentity(d4(2, false)))
 * @category utils
 */
export const isIdentity = (g: D4Element): boolean => g.turns === 0 && !g.flip

/**
 * A readable name: `id`, `rot90`, `hflip`, `hflip·rot270`, … (mirror first, then the turn), for
 * logs and explanations.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * assert.strictEqual(dihedral4.d4Name(dihedral4.d4(2, true)), 'hflip·rot180')   // the vertical flip
 * assert.strictEqual(dihedral4.d4Name(dihedral4.d4(-1, false)), 'rot270')
 * @category utils
 */
export const d4Name = (g: D4Element): string => {
  const turn = g.turns === 0 ? '' : `rot${90 * g.turns}`
  if (!g.flip) return turn === '' ? 'id' : turn
  return turn === '' ? 'hflip' : `hflip·${turn}`
}

/**
 * Index of an element in {@link d4Elements}: a key for tables and arrays indexed by element.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * assert.strictEqual(dihedral4.d4Index(dihedral4.d4(3, true)), 7)
 * assert.ok(dihedral4.d4Elements.every((g, i) => dihedral4.d4Index(g) === i))
 * @category utils
 */
export const d4Index = (g: D4Element): number => g.turns + (g.flip ? 4 : 0)

/**
 * The Cayley table: `table[i][j]` is the index of `after(elements[i], elements[j])`. It shows at a
 * glance that D4 is not commutative, so the order of factors in a product matters.
 * @example
 * import { dihedral4 } from 'tta-lens'
 * const { d4Table: table } = dihedral4
 * assert.strictEqual(table[1]?.[4], 5)   // rot90 after hflip: hflip·rot90
 * assert.strictEqual(table[4]?.[1], 7)   // hflip after rot90: hflip·rot270
 * assert.ok(table.every((row) => new Set(row).size === 8))   // a Latin square
 * @category utils
 */
export const d4Table: readonly (readonly number[])[] = d4Elements.map((a) => d4Elements.map((b) => d4Index(after(a, b))))
