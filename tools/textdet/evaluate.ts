/**
 * Scores PP-OCRv4's text detector on the evaluation set in assets/textdet/ under several TTA
 * policies, each through `wrap.segmentation(detector, product, { merge: 'mean' })`, and prints a
 * Markdown table: box precision / recall / F1 (IoU ≥ 0.5, greedy one-to-one, counts summed over
 * the set), mean per-image pixel IoU of the predicted boxes' mask against the truth boxes' mask,
 * F1 on the upright and on the turned images, and wall time per image.
 *
 *   npx tsx tools/textdet/evaluate.ts [--threads 2] [--limit N] [--policies none,hflip,…] [--box-threshold 0.6] [--json out.json]
 *
 * Every policy sees the same decoded images; images are the outer loop and all policies run on
 * one image before the next (after one warm-up image per policy that is not counted), so a slow
 * spell of the machine is spread over the policies instead of landing on one.
 */
import { writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import { aliases, identity, orThrow, product, transforms as T, wrap, type Tensor, type TtaError } from '../../src/index.js'
import type { Shape } from '../../src/tensor/shape.js'
import {
  addScores, boxMask, detect, EVAL_SET_DIR, loadDetector, pixelIoU, readImage, readTruth, scoreBoxes,
  type BoxScore, type Detector, type RgbImage, type TruthImage,
} from '../../src/textdet/node.js'

type Predict = (input: Tensor<readonly [1, 3, number, number]>) => TE.TaskEither<TtaError, Tensor<Shape>>

interface Policy {
  readonly name: string
  readonly label: string
  /** The prediction function for images of height h and width w. */
  readonly make: (detector: Detector, h: number, w: number) => E.Either<TtaError, { readonly predict: Predict; readonly views: number }>
}

const options: { readonly merge: 'mean' } = { merge: 'mean' }

const at15 = (n: number): number => Math.round(n * 1.5)

const policies: readonly Policy[] = [
  {
    name: 'none', label: 'none (identity, single pass)',
    make: (d) => { const s = wrap.segmentation(d, identity, options); return E.right({ predict: (x) => s.run(x), views: s.views.length }) },
  },
  {
    name: 'hflip', label: 'hflip',
    make: (d) => { const s = wrap.segmentation(d, aliases.hflip(), options); return E.right({ predict: (x) => s.run(x), views: s.views.length }) },
  },
  {
    name: 'd4', label: 'd4 (flips × quarter turns)',
    make: (d) => { const s = wrap.segmentation(d, aliases.d4(), options); return E.right({ predict: (x) => s.run(x), views: s.views.length }) },
  },
  {
    name: 'multiscale', label: 'multiscale 0.75 / 1 / 1.25 (bilinear)',
    // Every side of the set is a multiple of 128, so ×0.75 and ×1.25 stay multiples of 32.
    make: (d) => E.Functor.map(aliases.multiscale([0.75, 1.25], 'bilinear'), (p) => {
      const s = wrap.segmentation(d, p, options)
      return { predict: (x) => s.run(x), views: s.views.length }
    }),
  },
  {
    name: 'x1.5', label: 'single pass at 1.5× (bilinear resize)',
    make: (d, h, w) => E.Functor.map(T.resize([[at15(h), at15(w)]], { interpolation: 'bilinear' }), (r) => {
      const s = wrap.segmentation(d, product(r), options)
      return { predict: (x) => s.run(x), views: s.views.length }
    }),
  },
  {
    name: 'hflip@1.5', label: 'hflip at 1.5×',
    make: (d, h, w) => E.Functor.map(T.resize([[at15(h), at15(w)]], { interpolation: 'bilinear' }), (r) => {
      const s = wrap.segmentation(d, product(r, T.hflip()), options)
      return { predict: (x) => s.run(x), views: s.views.length }
    }),
  },
]

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

interface Tally {
  readonly scores: BoxScore[]
  readonly upright: BoxScore[]
  readonly turned: BoxScore[]
  readonly pixel: number[]
  ms: number
  views: number
}

const main = async (): Promise<void> => {
  const threads = Number(arg('threads') ?? '2')
  const limit = Number(arg('limit') ?? 'Infinity')
  const wanted = (arg('policies') ?? policies.map((p) => p.name).join(',')).split(',')
  const chosen = policies.filter((p) => wanted.includes(p.name))
  const boxThreshold = Number(arg('box-threshold') ?? '0.6')
  const detector = orThrow(await loadDetector({ threads })())
  const truthE = await readTruth()()
  if (E.isLeft(truthE)) throw new Error(truthE.left.message)
  const truth = truthE.right.slice(0, limit)

  const images: { readonly record: TruthImage; readonly image: RgbImage }[] = []
  for (const record of truth) {
    const image = await readImage(`${EVAL_SET_DIR}${record.file}`)()
    if (E.isLeft(image)) throw new Error(image.left.message)
    images.push({ record, image: image.right })
  }

  const cache = new Map<string, { readonly predict: Predict; readonly views: number }>()
  const predictor = (policy: Policy, h: number, w: number): { readonly predict: Predict; readonly views: number } => {
    const key = `${policy.name}@${h}x${w}`
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const made = policy.make(detector, h, w)
    if (E.isLeft(made)) throw new Error(`${policy.name}: ${made.left.message}`)
    cache.set(key, made.right)
    return made.right
  }
  const runOne = async (policy: Policy, image: RgbImage) => {
    const { predict, views } = predictor(policy, image.height, image.width)
    const t0 = performance.now()
    const found = await detect(predict, image, { boxThreshold })()
    const ms = performance.now() - t0
    if (E.isLeft(found)) throw new Error(`${policy.name}: ${found.left._tag}: ${found.left.message}`)
    return { detections: found.right.detections, ms, views }
  }

  // Warm-up: one image per policy (each size's first run builds ORT's kernels for that shape).
  const first = images[0]
  if (first !== undefined) for (const policy of chosen) await runOne(policy, first.image)

  const tallies = new Map<string, Tally>(chosen.map((p) => [p.name, { scores: [], upright: [], turned: [], pixel: [], ms: 0, views: 0 }]))
  const started = performance.now()
  for (const [k, { record, image }] of images.entries()) {
    const truthBoxes = record.lines.map((l) => l.box)
    const truthMask = boxMask(truthBoxes, image.width, image.height)
    for (const policy of chosen) {
      const { detections, ms, views } = await runOne(policy, image)
      const tally = tallies.get(policy.name)
      if (tally === undefined) continue
      const boxes = detections.map((d) => d.box)
      const score = scoreBoxes(boxes, truthBoxes, 0.5)
      tally.scores.push(score)
      ;(record.turn === 0 ? tally.upright : tally.turned).push(score)
      tally.pixel.push(orThrow(pixelIoU(boxMask(boxes, image.width, image.height), truthMask)))
      tally.ms += ms
      tally.views = views
    }
    if ((k + 1) % 10 === 0) process.stderr.write(`${k + 1}/${images.length} images, ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  }
  await detector.release()

  const pct = (v: number): string => (100 * v).toFixed(1)
  const lines = [
    `| policy | views | P | R | F1 | pixel IoU | F1 upright | F1 turned | ms / image |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ]
  const json: Record<string, unknown>[] = []
  for (const policy of chosen) {
    const t = tallies.get(policy.name)
    if (t === undefined) continue
    const all = addScores(t.scores)
    const iou = t.pixel.reduce((a, v) => a + v, 0) / Math.max(1, t.pixel.length)
    const ms = t.ms / Math.max(1, t.scores.length)
    lines.push(`| ${policy.label} | ${t.views} | ${pct(all.precision)} | ${pct(all.recall)} | ${pct(all.f1)} | ${pct(iou)} | ${pct(addScores(t.upright).f1)} | ${pct(addScores(t.turned).f1)} | ${ms.toFixed(0)} |`)
    json.push({ policy: policy.name, views: t.views, ...all, pixelIoU: iou, f1Upright: addScores(t.upright).f1, f1Turned: addScores(t.turned).f1, msPerImage: ms })
  }
  const upright = images.filter((i) => i.record.turn === 0).length
  const lineCount = images.reduce((a, i) => a + i.record.lines.length, 0)
  console.log(`${images.length} images (${upright} upright, ${images.length - upright} turned 90°), ${lineCount} lines; onnxruntime threads ${threads}; box threshold ${boxThreshold}; total ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  console.log(lines.join('\n'))
  const out = arg('json')
  if (out !== undefined) writeFileSync(out, `${JSON.stringify({ threads, boxThreshold, images: images.length, lines: lineCount, results: json }, null, 1)}\n`)
}

await main()
