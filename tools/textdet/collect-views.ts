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
 * `hflip · rot180` share one call). Each image's record goes to its own file in the cache folder as
 * soon as it is done, so an interrupted collection resumes where it stopped; the records are what
 * tools/textdet/box-fusion.ts scores, tunes and tables without running the model again. Each record
 * also holds the time of every step (model call, DB and box mapping per view; mask mapping per view;
 * merge and DB per policy and map merge), from which box-fusion.ts adds up ms/image per policy.
 *
 * By default the issue's seven policies; `--extras` adds the three that box fusion made worth trying
 * (they need seven more 1.5× views per image, more than doubling the time).
 *
 *   npx tsx tools/textdet/collect-views.ts [--threads 2] [--limit N] [--extras] [--dir .cache/textdet-views]
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
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
  /** Milliseconds of the model call per view key (batch 1, its view's augment included). */
  readonly modelMs: Readonly<Record<string, number>>
  /** Milliseconds per view key of the box path's own work: DB on the view's map, boxes mapped back. */
  readonly boxMs: Readonly<Record<string, number>>
  /** Milliseconds per view key of mapping the view's map back (the map path's per-view work). */
  readonly unmapMs: Readonly<Record<string, number>>
  /** Milliseconds per policy and map merge of the merge and DB on the merged map. */
  readonly mergeMs: Readonly<Record<string, Readonly<Record<MapMerge, number>>>>
}

/** The cache file of an image (`images/007.jpg` → `<dir>/007.json`). */
const cacheFile = (dir: string, file: string): string => join(dir, `${file.replace(/^.*\//, '').replace(/\.[a-z]+$/i, '')}.json`)

const main = async (): Promise<void> => {
  const threads = Number(arg('threads') ?? '2')
  const limit = Number(arg('limit') ?? 'Infinity')
  const dir = arg('dir') ?? '.cache/textdet-views'
  const policies = textPolicies.filter((p) => !p.extra || process.argv.includes('--extras'))
  mkdirSync(dir, { recursive: true })
  const detector = orThrow(await loadDetector({ threads })())
  const truth = await readTruth()()
  if (E.isLeft(truth)) throw new Error(truth.left.message)
  const db = dbDetections()
  let written = 0
  const started = performance.now()
  for (const [k, record] of truth.right.slice(0, limit).entries()) {
    const target = cacheFile(dir, record.file)
    if (existsSync(target)) continue
    const pixels = await readImage(`${EVAL_SET_DIR}${record.file}`)()
    if (E.isLeft(pixels)) throw new Error(pixels.left.message)
    const { input } = orThrow(preprocess(pixels.right))
    const maps = new Map<string, Tensor<Shape>>()
    const views: Record<string, Detections> = {}
    const modelMs: Record<string, number> = {}
    const boxMs: Record<string, number> = {}
    const unmapMs: Record<string, number> = {}
    const mergeMs: Record<string, Record<MapMerge, number>> = {}
    const policyMaps: Record<string, Record<MapMerge, readonly (readonly [number, number, number, number])[]>> = {}
    for (const policy of policies) {
      const product = orThrow(policy.product(record.height, record.width))
      const viewMaps: Tensor<Shape>[] = []
      for (const view of runnableViews(product)) {
        const key = viewKey(view.spec)
        let back = maps.get(key)
        if (back === undefined) {
          const t0 = performance.now()
          const augmented = orThrow(view.augmentImage(input))
          const map = await detector(augmented)
          const t1 = performance.now()
          back = orThrow(view.deaugmentMask(map, input))
          const t2 = performance.now()
          maps.set(key, back)
          const found = db(map)
          if (E.isLeft(found)) throw new Error(found.left.message)
          views[key] = orThrow(view.deaugmentBoxes(found.right, input))
          modelMs[key] = t1 - t0
          unmapMs[key] = t2 - t1
          boxMs[key] = performance.now() - t2
        }
        viewMaps.push(back)
      }
      const [first, ...rest] = viewMaps
      if (first === undefined) throw new Error(`${policy.name}: no views`)
      const ms: Record<MapMerge, number> = { mean: 0, gmean: 0, max: 0 }
      const boxesOf = (mode: MapMerge) => {
        const t0 = performance.now()
        const found = orThrow(boxesFromProbability(orThrow(merge(mode, [first, ...rest])), { size: { width: record.width, height: record.height } })).map((d) => d.box)
        ms[mode] = performance.now() - t0
        return found
      }
      policyMaps[policy.name] = { mean: boxesOf('mean'), gmean: boxesOf('gmean'), max: boxesOf('max') }
      mergeMs[policy.name] = ms
    }
    const image: CollectedImage = { file: record.file, views, maps: policyMaps, modelMs, boxMs, unmapMs, mergeMs }
    // Whole files only: a record is written beside its name and renamed into place.
    writeFileSync(`${target}.part`, `${JSON.stringify({ threads, image })}\n`)
    renameSync(`${target}.part`, target)
    written++
    process.stderr.write(`${k + 1}/${Math.min(limit, truth.right.length)} ${record.file}: ${maps.size} views, ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  }
  await detector.release()
  process.stderr.write(`${written} image records written to ${dir} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`)
}

await main()
