/**
 * The candidate search of fusion (NMS's and soft-NMS's sweep along x for overlapping pairs, the
 * grid of NMW and WBF that skips pairs which cannot overlap, soft-NMS's lazy heap) and its typed
 * columns change nothing: on random scenes, from sparse to crowded, every method
 * gives exactly what all-pairs loops over one object per box give (spec/boxes/brute-force.ts).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { laws } from '../../src/index.js'
import * as Fast from '../../src/boxes/fusion-algorithms.js'
import { resolve } from '../../src/boxes/fusion-options.js'
import { flatOf, tableOf } from '../../src/boxes/fusion-table.js'
import type { Detections } from '../../src/boxes/detections.js'
import * as Brute from './brute-force.js'

const scenes = fc.oneof(
  laws.arbitraries.fusionCase({ maxViews: 8, maxObjects: 40, classes: 2 }),
  laws.arbitraries.fusionCase({ maxViews: 4, maxObjects: 8, classes: 1 }),
)

const bothWays = (views: readonly Detections[], options: Parameters<typeof resolve>[0]): readonly [Detections, Detections] => {
  const o = resolve(options)
  const table = tableOf(flatOf(views), o)
  const rows = Brute.rowsOf(table)
  switch (o.method) {
    case 'nms': return [Fast.nms(table, o.iouThreshold), Brute.nms(rows, o.iouThreshold)]
    case 'soft-nms': return [Fast.softNms(table, o), Brute.softNms(rows, o)]
    case 'nmw': return [Fast.nmw(table, o.iouThreshold), Brute.nmw(rows, o.iouThreshold)]
    case 'wbf': {
      const s = { ...o, viewWeights: o.weights ?? views.map(() => 1) }
      return [Fast.wbf(table, s), Brute.wbf(rows, s)]
    }
  }
}

describe('fusion candidate search', () => {
  it('grid and heap give exactly the all-pairs answers (300 random scenes, all methods)', () => {
    let boxes = 0
    fc.assert(fc.property(scenes, ({ views, options }) => {
      const [fast, brute] = bothWays(views, options)
      boxes += views.reduce((n, v) => n + v.boxes.length, 0)
      expect(fast).toEqual(brute)
    }), { numRuns: 300, seed: 11 })
    expect(boxes).toBeGreaterThan(300 * 10)
  })

  it('a crowded scene: 20 random scenes of 8 views laid over each other', () => {
    const parts = fc.sample(laws.arbitraries.fusionViews({ minViews: 8, maxViews: 8, maxObjects: 40 }), { numRuns: 20, seed: 3 })
    const views = Array.from({ length: 8 }, (_, v): Detections => {
      const own = parts.map((p) => p[v] ?? { boxes: [], scores: [], labels: [] })
      return { boxes: own.flatMap((d) => d.boxes), scores: own.flatMap((d) => d.scores), labels: own.flatMap((d) => d.labels) }
    })
    expect(views.reduce((n, v) => n + v.boxes.length, 0)).toBeGreaterThan(500)
    for (const options of [{ method: 'nms' }, { method: 'soft-nms', kernel: 'linear' }, { method: 'soft-nms' }, { method: 'nmw' }, { method: 'wbf', confidence: 'box_and_model_avg' }] as const) {
      const [fast, brute] = bothWays(views, options)
      expect(fast, options.method).toEqual(brute)
    }
  })

  it('boxes that touch, cover the frame, or sit on cell borders', () => {
    const border = (k: number): number => k / 16
    const views: Detections[] = [
      { boxes: [[0, 0, 1, 1], [border(3), border(3), border(5), border(5)], [border(5), border(3), border(7), border(5)], [0.999, 0.999, 1, 1]], scores: [0.9, 0.8, 0.8, 0.7], labels: [0, 0, 0, 0] },
      { boxes: [[border(3), border(3), border(5), border(5) + 1e-12], [0, 0, 1, 1]], scores: [0.8, 0.9], labels: [0, 0] },
    ]
    for (const options of [{ method: 'nms', iouThreshold: 0 }, { method: 'soft-nms', kernel: 'linear', iouThreshold: 0 }, { method: 'soft-nms' }, { method: 'nmw', iouThreshold: 0 }, { method: 'wbf', iouThreshold: 0 }] as const) {
      const [fast, brute] = bothWays(views, options)
      expect(fast, options.method).toEqual(brute)
    }
  })
})
