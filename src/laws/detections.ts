/**
 * fast-check arbitraries for detections and box fusion (re-exported by `laws.arbitraries`).
 *
 * - Coordinates are normalised and exact multiples of 1/1024, so identical boxes are common enough
 *   to meet, and IoUs of exactly the threshold happen.
 * - Scores are either coarse (k/8, so equal scores — ties — are frequent) or any double in [0, 1].
 * - A fusion scene is a few objects, each seen by most views as a slightly shifted copy, plus
 *   clutter; boxes may stick out of the frame (fusion clips them) and views may be empty.
 *
 * @since 0.3.0
 */
import fc from 'fast-check'
import type { Box, Detections } from '../boxes/detections.js'
import { confidenceRules, fusionMethods, type FusionMethod, type FusionOptions } from '../boxes/fusion-options.js'

const unit = 1024

/**
 * Sizes and ranges of generated boxes.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const c: laws.arbitraries.BoxConstraints = { minSide: 0.05, maxSide: 0.2, margin: 0 }
 * fc.assert(fc.property(laws.arbitraries.normalizedBox(c), ([x1, , x2]) => x2 - x1 >= 0.05 && x1 >= 0 && x2 <= 1))
 * @category model
 */
export interface BoxConstraints {
  /** Smallest width and height, default 1/32. */
  readonly minSide?: number
  /** Largest width and height, default 1/2. */
  readonly maxSide?: number
  /** How far a box may stick out of [0, 1] on each side, default 0 (fusion scenes use 1/8). */
  readonly margin?: number
}

/**
 * A box `[x1, y1, x2, y2]` with x1 < x2 and y1 < y2, corners multiples of 1/1024.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.normalizedBox(), ([x1, y1, x2, y2]) => x1 < x2 && y1 < y2 && x1 >= 0 && y2 <= 1))
 * @category constructors
 */
export const normalizedBox = (c: BoxConstraints = {}): fc.Arbitrary<Box> => {
  // Whole units inside [minSide, maxSide] (a side of exactly minSide may not be a multiple of 1/1024).
  const min = Math.max(1, Math.ceil((c.minSide ?? 1 / 32) * unit))
  const max = Math.max(min, Math.min(unit, Math.floor((c.maxSide ?? 1 / 2) * unit)))
  const margin = Math.round((c.margin ?? 0) * unit)
  const side = fc.integer({ min, max })
  const axis = side.chain((s) => fc.integer({ min: -margin, max: unit + margin - s }).map((start) => [start / unit, (start + s) / unit] as const))
  return fc.tuple(axis, axis).map(([[x1, x2], [y1, y2]]): Box => [x1, y1, x2, y2])
}

/**
 * A detection score in [0, 1]: half the time a multiple of 1/8 (ties), else any double.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.score(), (s) => s >= 0 && s <= 1))
 * @category constructors
 */
export const score = (): fc.Arbitrary<number> =>
  fc.oneof(fc.integer({ min: 0, max: 8 }).map((k) => k / 8), fc.double({ min: 0, max: 1, noNaN: true }))

/**
 * How many boxes and classes generated detections have.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const c: laws.arbitraries.DetectionConstraints = { maxBoxes: 3, classes: 1 }
 * fc.assert(fc.property(laws.arbitraries.detections(c), (d) => d.boxes.length <= 3 && d.labels.every((l) => l === 0)))
 * @category model
 */
export interface DetectionConstraints extends BoxConstraints {
  /** Most boxes in one view, default 8. */
  readonly maxBoxes?: number
  /** Labels are 0 … classes − 1, default 3. */
  readonly classes?: number
}

/**
 * One view's detections: up to `maxBoxes` boxes with scores and labels (possibly none).
 * @example
 * import fc from 'fast-check'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes, laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.detections(), (d) => E.isRight(boxes.checkDetections(d, 'generated'))))
 * @category constructors
 */
export const detections = (c: DetectionConstraints = {}): fc.Arbitrary<Detections> =>
  fc.array(fc.tuple(normalizedBox(c), score(), fc.integer({ min: 0, max: (c.classes ?? 3) - 1 })), { maxLength: c.maxBoxes ?? 8 })
    .map((list) => ({ boxes: list.map(([b]) => b), scores: list.map(([, s]) => s), labels: list.map(([, , l]) => l) }))

/**
 * The shape of a fusion scene.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const c: laws.arbitraries.SceneConstraints = { minViews: 2, maxViews: 2, maxObjects: 3 }
 * fc.assert(fc.property(laws.arbitraries.fusionViews(c), (views) => views.length === 2))
 * @category model
 */
export interface SceneConstraints {
  /** Fewest views, default 1. */
  readonly minViews?: number
  /** Most views, default 5. */
  readonly maxViews?: number
  /** Most objects in the scene, default 6. */
  readonly maxObjects?: number
  /** Labels are 0 … classes − 1, default 3. */
  readonly classes?: number
}

const shift = fc.integer({ min: -24, max: 24 }).map((k) => k / unit)

const seen = (b: Box): fc.Arbitrary<Box> =>
  fc.tuple(shift, shift, shift, shift).map(([a, c, d, e]): Box => {
    const x1 = b[0] + a, y1 = b[1] + c, x2 = b[2] + d, y2 = b[3] + e
    return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)]
  })

/**
 * The detections of several views of one image: each object is seen by each view with probability
 * about 3/4, as a copy shifted by up to 24/1024 per corner with its own score; each view adds up to
 * 2 clutter boxes. Boxes may stick out of the frame by up to 1/8 (fusion clips them).
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.fusionViews(), (views) => views.length >= 1 && views.length <= 5))
 * @category constructors
 */
export const fusionViews = (c: SceneConstraints = {}): fc.Arbitrary<readonly Detections[]> => {
  const classes = c.classes ?? 3
  const label = fc.integer({ min: 0, max: classes - 1 })
  const objects = fc.array(fc.tuple(normalizedBox({ minSide: 1 / 16, maxSide: 3 / 8, margin: 1 / 8 }), label), { maxLength: c.maxObjects ?? 6 })
  return objects.chain((scene) => {
    const view = fc.tuple(
      fc.tuple(...scene.map(([b, l]) => fc.option(fc.tuple(seen(b), score(), fc.constant(l)), { freq: 4 }))),
      fc.array(fc.tuple(normalizedBox({ maxSide: 1 / 4, margin: 1 / 8 }), score(), label), { maxLength: 2 }),
    ).map(([copies, clutter]): Detections => {
      const all = [...copies.flatMap((x) => (x === null ? [] : [x])), ...clutter]
      return { boxes: all.map(([b]) => b), scores: all.map(([, s]) => s), labels: all.map(([, , l]) => l) }
    })
    return fc.array(view, { minLength: c.minViews ?? 1, maxLength: c.maxViews ?? 5 })
  })
}

/**
 * View weights for `views` views (not all 0): a mix of 0, fractions that do not add exactly in
 * floating point (0.1, 0.2, 0.3) and whole numbers.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.viewWeights(3), (w) => w.length === 3 && w.some((x) => x > 0)))
 * @category constructors
 */
export const viewWeights = (views: number): fc.Arbitrary<readonly number[]> =>
  fc.array(fc.constantFrom(0, 0.1, 0.2, 0.3, 1, 1.5, 2, 3), { minLength: views, maxLength: views })
    .map((w) => (w.every((x) => x === 0) ? w.map(() => 1) : w))

const threshold = fc.integer({ min: 0, max: 20 }).map((k) => k / 20)

/**
 * Fusion options for `views` views: the given method (or any), with random thresholds and, half
 * the time, view weights; only keys of that method.
 * @example
 * import fc from 'fast-check'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes, laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.fusionOptions(2, 'wbf'), (o) => o.method === 'wbf' && E.isRight(boxes.parseFusionOptions(o))))
 * @category constructors
 */
export const fusionOptions = (views: number, method?: FusionMethod): fc.Arbitrary<FusionOptions> => {
  const weights = fc.option(viewWeights(views), { nil: undefined }).map((w) => (w === undefined ? {} : { weights: w }))
  const chosen = method === undefined ? fc.constantFrom(...fusionMethods) : fc.constant(method)
  return chosen.chain((m): fc.Arbitrary<FusionOptions> => {
    switch (m) {
      case 'nms':
        return fc.tuple(threshold, weights).map(([iouThreshold, w]) => ({ method: 'nms', iouThreshold, ...w }))
      case 'soft-nms':
        return fc.tuple(fc.constantFrom('linear' as const, 'gaussian' as const), threshold, fc.constantFrom(0.1, 0.3, 0.5, 1), fc.constantFrom(0, 0.001, 0.05, 0.25), fc.constantFrom('decayed' as const, 'original' as const), weights)
          .map(([kernel, iouThreshold, sigma, scoreThreshold, scores, w]) => ({ method: 'soft-nms', kernel, iouThreshold, sigma, scoreThreshold, scores, ...w }))
      case 'nmw':
        return fc.tuple(threshold, fc.constantFrom(0, 0.1, 0.25, 0.5), weights).map(([iouThreshold, skipThreshold, w]) => ({ method: 'nmw', iouThreshold, skipThreshold, ...w }))
      case 'wbf':
        return fc.tuple(threshold, fc.constantFrom(0, 0.1, 0.25, 0.5), fc.constantFrom(...confidenceRules), fc.boolean(), weights)
          .map(([iouThreshold, skipThreshold, confidence, allowsOverflow, w]) => ({ method: 'wbf', iouThreshold, skipThreshold, confidence, allowsOverflow, ...w }))
    }
  })
}

/**
 * A fusion scene with options for it (weights, when present, one per view).
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.fusionCase({ method: 'nms' }), ({ views, options }) =>
 *   options.method === 'nms' && (options.weights === undefined || options.weights.length === views.length)))
 * @category constructors
 */
export const fusionCase = (c: SceneConstraints & { readonly method?: FusionMethod } = {}): fc.Arbitrary<{ readonly views: readonly Detections[]; readonly options: FusionOptions }> =>
  fusionViews(c).chain((views) => fusionOptions(views.length, c.method).map((options) => ({ views, options })))

/**
 * A permutation of `0 … n − 1`.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.permutation(4), (p) => [...p].sort().join() === '0,1,2,3'))
 * @category constructors
 */
export const permutation = (n: number): fc.Arbitrary<readonly number[]> => {
  const all = Array.from({ length: n }, (_, i) => i)
  return fc.shuffledSubarray(all, { minLength: n, maxLength: n })
}
