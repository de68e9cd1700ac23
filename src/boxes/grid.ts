/**
 * A uniform grid over the unit square, to find the boxes a box may overlap without comparing it
 * with every box of its class (internal to fusion). An entry is registered in every cell its
 * rectangle touches; a query returns each entry registered in a cell the query touches, once.
 *
 * It only prunes pairs that cannot overlap: two rectangles whose intersection has positive area
 * share a cell, so every pair with IoU > 0 is returned, and the fusion methods — which act only on
 * IoU above a threshold ≥ 0 — give exactly what comparing every pair gives.
 *
 * Each cell is a linked list in typed arrays (a registration is a node: its entry and the cell's
 * previous node), so building and querying allocate nothing per box.
 *
 * @since 0.3.0
 */

export interface Grid {
  /** Cells per side. */
  readonly side: number
  /** Per cell: its latest node, −1 when empty. */
  readonly head: Int32Array
  /** Per node: the entry it registers. */
  entry: Int32Array
  /** Per node: the cell's node before it, −1 at the end. */
  next: Int32Array
  /** Nodes in use. */
  nodes: number
  /** Per entry: the stamp of the last query that returned it (dedupes entries met in several cells). */
  seen: Int32Array
  stamp: number
}

/** A grid for entries `0 … entries − 1`, of about `entries / 2` cells (1 to 32 per side): a few entries per cell for boxes of a few percent of the frame. */
export const grid = (entries: number): Grid => {
  const side = Math.max(1, Math.min(32, Math.round(Math.sqrt(entries / 2))))
  const capacity = Math.max(16, 4 * entries)
  return {
    side, head: new Int32Array(side * side).fill(-1), entry: new Int32Array(capacity), next: new Int32Array(capacity), nodes: 0,
    seen: new Int32Array(Math.max(entries, 1)), stamp: 0,
  }
}

/** The cell of a coordinate in [0, 1] (1 falls into the last cell). */
export const cellOf = (g: Grid, v: number): number => Math.min(g.side - 1, Math.max(0, Math.floor(v * g.side)))

/**
 * Registers `id` in the cells `[cx0, cx1] × [cy0, cy1]` except those in `[sx0, sx1] × [sy0, sy1]`
 * (cells already registered; an empty range such as `sx0 > sx1` skips none).
 */
export const insertCells = (
  g: Grid, id: number, cx0: number, cx1: number, cy0: number, cy1: number, sx0: number, sx1: number, sy0: number, sy1: number,
): void => {
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let cx = cx0; cx <= cx1; cx++) {
      if (cx >= sx0 && cx <= sx1 && cy >= sy0 && cy <= sy1) continue
      if (g.nodes === g.entry.length) {
        const entry = new Int32Array(2 * g.nodes), next = new Int32Array(2 * g.nodes)
        entry.set(g.entry)
        next.set(g.next)
        g.entry = entry
        g.next = next
      }
      const c = cy * g.side + cx
      g.entry[g.nodes] = id
      g.next[g.nodes] = g.head[c] ?? -1
      g.head[c] = g.nodes++
    }
  }
  if (id >= g.seen.length) {
    const grown = new Int32Array(Math.max(id + 1, g.seen.length * 2))
    grown.set(g.seen)
    g.seen = grown
  }
}

/** Registers `id` in every cell of `[x1, x2] × [y1, y2]`. */
export const insert = (g: Grid, id: number, x1: number, y1: number, x2: number, y2: number): void =>
  insertCells(g, id, cellOf(g, x1), cellOf(g, x2), cellOf(g, y1), cellOf(g, y2), 1, 0, 1, 0)

/** The entries registered in the cells of `[x1, x2] × [y1, y2]`, each once, into `out` (long enough for every entry); returns how many. */
export const query = (g: Grid, x1: number, y1: number, x2: number, y2: number, out: Int32Array): number => {
  const stamp = ++g.stamp
  const cx0 = cellOf(g, x1), cx1 = cellOf(g, x2), cy0 = cellOf(g, y1), cy1 = cellOf(g, y2)
  let found = 0
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let cx = cx0; cx <= cx1; cx++) {
      for (let node = g.head[cy * g.side + cx] ?? -1; node >= 0; node = g.next[node] ?? -1) {
        const id = g.entry[node] ?? 0
        if (g.seen[id] === stamp) continue
        g.seen[id] = stamp
        out[found++] = id
      }
    }
  }
  return found
}
