/**
 * A uniform grid over the unit square, to find the boxes a box may overlap without comparing it
 * with every box of its class (internal to fusion). An entry is registered in every cell its
 * rectangle touches; a query returns each entry registered in a cell the query touches, once.
 *
 * It only prunes pairs that cannot overlap: two rectangles whose intersection has positive area
 * share a cell, so every pair with IoU > 0 is returned, and the fusion methods — which act only on
 * IoU above a threshold ≥ 0 — give exactly what comparing every pair gives.
 *
 * @since 0.3.0
 */

export interface Grid {
  /** Cells per side. */
  readonly side: number
  readonly cells: number[][]
  /** Per entry: the stamp of the last query that returned it (dedupes entries met in several cells). */
  seen: Int32Array
  stamp: number
}

/** A grid of about `entries / 2` cells (1 to 32 per side): a few entries per cell for boxes of a few percent of the frame. */
export const grid = (entries: number): Grid => {
  const side = Math.max(1, Math.min(32, Math.round(Math.sqrt(entries / 2))))
  return { side, cells: Array.from({ length: side * side }, () => []), seen: new Int32Array(Math.max(entries, 1)), stamp: 0 }
}

/** The cell of a coordinate in [0, 1] (1 falls into the last cell). */
const cell = (g: Grid, v: number): number => Math.min(g.side - 1, Math.max(0, Math.floor(v * g.side)))

/** Registers `id` in the cells of `[x1, x2] × [y1, y2]` that are not in `[skip]` (cell ranges already registered). */
export const insert = (
  g: Grid, id: number, x1: number, y1: number, x2: number, y2: number,
  skip?: { readonly cx0: number; readonly cx1: number; readonly cy0: number; readonly cy1: number },
): { readonly cx0: number; readonly cx1: number; readonly cy0: number; readonly cy1: number } => {
  const cx0 = cell(g, x1), cx1 = cell(g, x2), cy0 = cell(g, y1), cy1 = cell(g, y2)
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let cx = cx0; cx <= cx1; cx++) {
      if (skip !== undefined && cx >= skip.cx0 && cx <= skip.cx1 && cy >= skip.cy0 && cy <= skip.cy1) continue
      g.cells[cy * g.side + cx]?.push(id)
    }
  }
  if (id >= g.seen.length) {
    const grown = new Int32Array(Math.max(id + 1, g.seen.length * 2))
    grown.set(g.seen)
    g.seen = grown
  }
  return { cx0, cx1, cy0, cy1 }
}

/** The entries registered in the cells of `[x1, x2] × [y1, y2]`, each once, into `out` (cleared first). */
export const query = (g: Grid, x1: number, y1: number, x2: number, y2: number, out: number[]): number[] => {
  out.length = 0
  g.stamp++
  const cx0 = cell(g, x1), cx1 = cell(g, x2), cy0 = cell(g, y1), cy1 = cell(g, y2)
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let cx = cx0; cx <= cx1; cx++) {
      const list = g.cells[cy * g.side + cx]
      if (list === undefined) continue
      for (const id of list) {
        if (g.seen[id] === g.stamp) continue
        g.seen[id] = g.stamp
        out.push(id)
      }
    }
  }
  return out
}
