/**
 * Why a TTA policy helps or hurts: runs every view of d4 on its own (with `runnableViews`: augment,
 * detector, deaugment), scores each view's map alone, and scores merges of subsets of the same
 * maps — the mean of all 8 (what `wrap.segmentation(…, aliases.d4(), { merge: 'mean' })` computes),
 * the mean of {identity, hflip}, and elementwise max merges. One detector pass per view and image.
 *
 *   npx tsx tools/textdet/per_view.ts [--threads 1] [--limit N]
 */
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/lib/Either.js'
import { aliases, orThrow, runnableViews, tensor, type Tensor } from '../../src/index.js'
import type { Shape } from '../../src/tensor/shape.js'
import {
  addScores, boxesFromProbability, boxMask, EVAL_SET_DIR, loadDetector, pixelIoU, preprocess, readImage, readTruth, scoreBoxes,
  type BoxScore,
} from '../../src/textdet/node.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

const merge = (maps: readonly Tensor<Shape>[], how: 'mean' | 'max'): Tensor<Shape> => {
  const [first] = maps
  if (first === undefined) throw new Error('no maps')
  const out = new Float32Array(first.data.length)
  if (how === 'max') out.fill(-Infinity)
  for (const m of maps) {
    for (let i = 0; i < out.length; i++) {
      const v = m.data[i] ?? 0
      out[i] = how === 'mean' ? (out[i] ?? 0) + v / maps.length : Math.max(out[i] ?? 0, v)
    }
  }
  return orThrow(tensor(first.shape, out))
}

const main = async (): Promise<void> => {
  const threads = Number(arg('threads') ?? '1')
  const limit = Number(arg('limit') ?? 'Infinity')
  const detector = orThrow(await loadDetector({ threads })())
  const truth = await readTruth()()
  if (E.isLeft(truth)) throw new Error(truth.left.message)
  const views = runnableViews(aliases.d4())
  const names = views.map((v) => v.spec.name)
  const rows = new Map<string, { all: BoxScore[]; upright: BoxScore[]; turned: BoxScore[]; pixel: number[] }>()
  const record = (name: string, map: Tensor<Shape>, truthBoxes: readonly (readonly [number, number, number, number])[], w: number, h: number, turned: boolean): void => {
    const boxes = orThrow(boxesFromProbability(map)).map((d) => d.box)
    const s = scoreBoxes(boxes, truthBoxes)
    const row = rows.get(name) ?? { all: [], upright: [], turned: [], pixel: [] }
    row.all.push(s)
    ;(turned ? row.turned : row.upright).push(s)
    row.pixel.push(orThrow(pixelIoU(boxMask(boxes, w, h), boxMask(truthBoxes, w, h))))
    rows.set(name, row)
  }
  const started = performance.now()
  for (const r of truth.right.slice(0, limit)) {
    const image = await readImage(`${EVAL_SET_DIR}${r.file}`)()
    if (E.isLeft(image)) throw new Error(image.left.message)
    const { input } = orThrow(preprocess(image.right))
    const maps: Tensor<Shape>[] = []
    for (const view of views) {
      const augmented = orThrow(view.augmentImage(input))
      const out = await detector(augmented)
      maps.push(orThrow(view.deaugmentMask(out, input)))
    }
    const truthBoxes = r.lines.map((l) => l.box)
    const turned = r.turn !== 0
    maps.forEach((m, i) => record(`view ${names[i] ?? i}`, m, truthBoxes, r.width, r.height, turned))
    const pair = [maps[0], maps[4]].filter((m) => m !== undefined)
    record('mean of identity + hflip', merge(pair, 'mean'), truthBoxes, r.width, r.height, turned)
    record('max of identity + hflip', merge(pair, 'max'), truthBoxes, r.width, r.height, turned)
    record('mean of all 8 (= d4, mean)', merge(maps, 'mean'), truthBoxes, r.width, r.height, turned)
    record('max of all 8 (d4, max)', merge(maps, 'max'), truthBoxes, r.width, r.height, turned)
  }
  await detector.release()
  const pct = (v: number): string => (100 * v).toFixed(1)
  console.log(`views of d4: ${names.join(' | ')}; ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  console.log('| view or merge | P | R | F1 | pixel IoU | F1 upright | F1 turned |')
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const [name, row] of rows) {
    const s = addScores(row.all)
    console.log(`| ${name} | ${pct(s.precision)} | ${pct(s.recall)} | ${pct(s.f1)} | ${pct(row.pixel.reduce((a, v) => a + v, 0) / row.pixel.length)} | ${pct(addScores(row.upright).f1)} | ${pct(addScores(row.turned).f1)} |`)
  }
}

await main()
