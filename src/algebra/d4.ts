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

/** @category constructors */
export const d4 = (turns: number, flip: boolean): D4Element => ({ turns: quarter(turns), flip })

/** @category constructors */
export const d4Identity: D4Element = { turns: 0, flip: false }

/** All 8 elements, rotations first. @category constructors */
export const d4Elements: readonly D4Element[] = [false, true].flatMap((flip) => [0, 1, 2, 3].map((k) => d4(k, flip)))

/**
 * `after(second, first)`: apply `first`, then `second` (function composition order).
 * @category combinators
 */
export const after = (second: D4Element, first: D4Element): D4Element =>
  d4(second.turns + (second.flip ? -first.turns : first.turns), second.flip !== first.flip)

/** @category combinators */
export const inverse = (g: D4Element): D4Element => (g.flip ? g : d4(-g.turns, false))

/** @category utils */
export const equals = (a: D4Element, b: D4Element): boolean => a.turns === b.turns && a.flip === b.flip

/** @category utils */
export const isIdentity = (g: D4Element): boolean => g.turns === 0 && !g.flip

/** A readable name: `id`, `rot90`, `hflip`, `hflip·rot270`, … @category utils */
export const d4Name = (g: D4Element): string => {
  const turn = g.turns === 0 ? '' : `rot${90 * g.turns}`
  if (!g.flip) return turn === '' ? 'id' : turn
  return turn === '' ? 'hflip' : `hflip·${turn}`
}

/** Index of an element in {@link d4Elements}. @category utils */
export const d4Index = (g: D4Element): number => g.turns + (g.flip ? 4 : 0)

/** The Cayley table: `table[i][j]` is the index of `after(elements[i], elements[j])`. @category utils */
export const d4Table: readonly (readonly number[])[] = d4Elements.map((a) => d4Elements.map((b) => d4Index(after(a, b))))
