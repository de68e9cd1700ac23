/**
 * Runs PP-OCRv4's detector once per image and distinct view of every policy in
 * tools/textdet/policies.ts, and stores, per image, what both merge paths need:
 *
 * - the box path: each view's probability map through the DB post-processing (`textdet.dbDetections`,
 *   PP-OCR's defaults) on the view's own frame, the boxes mapped back into the image's frame with
 *   the view's inverse (`deaugmentBoxes`) — exactly what `wrap.detection(wrap.detector(detector,
 *   dbDetections()), product)` collects before fusing;
 * - the pixel path: for every policy and map merge (mean, gmean, max), the boxes DB finds on the
 *   merged map of the views' maps mapped back (`deaugmentMask`) — what `wrap.segmentation(detector,
 *   product, { merge })` followed by `boxesFromProbability` gives.
 *
 * One model call per distinct view (views are keyed by their simplified steps, so `vflip` and d4's
 * `hflip · rot180` share one call). The output (JSON, a few MB) is what tools/textdet/box-fusion.ts
 * scores, tunes and tables without running the model again.
 *
 *   npx tsx tools/textdet/collect-views.ts [--threads 1] [--limit N] [--out .cache/textdet-views.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/lib/Either.js'
import { merge, orThrow, runnableViews, type Tensor } from '../../src/index.js'
import type { Detections } from '../../src/boxes/index.js'
import type { Shape } from '../../src/tensor/shape.js'
import { boxesFromProbability, dbDetections, EVAL_SET_DIR, loadDetector, preprocess, readImage, readTruth } from '../../src/textdet/node.js'
import { textPolicies, viewKey, type MapMerge } from './policies.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

/** What the collection stores for one image. */
export interface CollectedImage {
  readonly file: string
  /** Per distinct view (by key): its boxes mapped back into the image's frame, in pixels. */
  readonly views: Readonly<Record<string, Detections>>
  /** Per policy name, per map merge: the boxes found on the merged map. */
  readonly maps: Readonly<Record<string, Readonly<Record<MapMerge, readonly (readonly [number, number, number, number])[]>>>>
  /** Milliseconds of the model call per view key (batch 1; for orientation only). */
  readonly modelMs: Readonly<Record<string, number>>
}

const main = async (): Promise<void> => {
  const threads = Number(arg('threads') ?? '1')
  const limit = Number(arg('limit') ?? 'Infinity')
  const out = arg('out') ?? '.cache/textdet-views.json'
  const detector = orThrow(await loadDetector({ threads })())
  const truth = await readTruth()()
  if (E.isLeft(truth)) throw new Error(truth.left.message)
  const db = dbDetections()
  const images: CollectedImage[] = []
  const started = performance.now()
  for (const [k, record] of truth.right.slice(0, limit).entries()) {
    const pixels = await readImage(`${EVAL_SET_DIR}${record.file}`)()
    if (E.isLeft(pixels)) throw new Error(pixels.left.message)
    const { input } = orThrow(preprocess(pixels.right))
    const maps = new Map<string, Tensor<Shape>>()
    const views: Record<string, Detections> = {}
    const modelMs: Record<string, number> = {}
    const policyMaps: Record<string, Record<MapMerge, readonly (readonly [number, number, number, number])[]>> = {}
    for (const policy of textPolicies) {
      const product = orThrow(policy.product(record.height, record.width))
      const viewMaps: Tensor<Shape>[] = []
      for (const view of runnableViews(product)) {
        const key = viewKey(view.spec)
        let back = maps.get(key)
        if (back === undefined) {
          const augmented = orThrow(view.augmentImage(input))
          const t0 = performance.now()
          const map = await detector(augmented)
          modelMs[key] = performance.now() - t0
          back = orThrow(view.deaugmentMask(map, input))
          maps.set(key, back)
          const found = db(map)
          if (E.isLeft(found)) throw new Error(found.left.message)
          views[key] = orThrow(view.deaugmentBoxes(found.right, input))
        }
        viewMaps.push(back)
      }
      const [first, ...rest] = viewMaps
      if (first === undefined) throw new Error(`${policy.name}: no views`)
      const boxesOf = (mode: MapMerge) =>
        orThrow(boxesFromProbability(orThrow(merge(mode, [first, ...rest])), { size: { width: record.width, height: record.height } })).map((d) => d.box)
      policyMaps[policy.name] = { mean: boxesOf('mean'), gmean: boxesOf('gmean'), max: boxesOf('max') }
    }
    images.push({ file: record.file, views, maps: policyMaps, modelMs })
    process.stderr.write(`${k + 1}/${Math.min(limit, truth.right.length)} ${record.file}: ${maps.size} views, ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  }
  await detector.release()
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify({ threads, images })}\n`)
  process.stderr.write(`wrote ${out} (${images.length} images, ${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
}

await main()
