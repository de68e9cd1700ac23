/**
 * `npm run demo`: runs the segmentation and classification wrappers on a generated image with two
 * small fixed-weight models, and prints what each view did — its geometry as fused stages, its
 * shape, and its prediction — then the merged result.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { aliases, describeStage, merge, orThrow, resolveAugment, resolveUndoMask, runnableViews, wrap, type Tensor } from '../index.js'
import { demoImage, edgeSegmenter, featureClassifier } from './demo-models.js'

const fmt = (v: number): string => v.toFixed(3)
const pad = (s: string, n: number): string => s.padEnd(n)
const meanAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0) / a.length

const image = demoImage(24, 32)
console.log(`tta-lens demo — image ${image.shape.join('×')} (generated: a disc, a bar, a gradient)\n`)

// Segmentation with the 8 dihedral views.
const d4 = aliases.d4()
const segmentation = wrap.segmentation(edgeSegmenter, d4, { merge: 'mean' })
const merged = orThrow(await segmentation.run(image)())
console.log(`Segmentation · d4 (${segmentation.views.length} views) · merge mean · model: Sobel-x edges + brightness, 2 channels`)
console.log(`${pad('view', 38)}${pad('kind', 6)}${pad('shape', 12)}${pad('differs from merged', 21)}geometry (fused)`)
const perView: Tensor<readonly [1, 2, 24, 32]>[] = []
for (const view of runnableViews(d4)) {
  const augmented = orThrow(view.augmentImage(image))
  const mask = await edgeSegmenter(augmented)
  const back = orThrow(view.deaugmentMask(mask, image))
  perView.push(back)
  const stages = orThrow(resolveAugment(view.spec.steps, 24, 32)).map(describeStage).join('; ') || 'none'
  console.log(`${pad(view.spec.name, 38)}${pad(view.spec.kind, 6)}${pad(augmented.shape.slice(2).join('×'), 12)}${pad(fmt(meanAbsDiff(back.data, merged.data)), 21)}${stages}`)
}
const [first, ...rest] = perView
if (first !== undefined) {
  const byHand = orThrow(merge('mean', [first, ...rest]))
  console.log(`merged mask ${merged.shape.join('×')}: mean edge prob ${fmt(merged.data.slice(0, 24 * 32).reduce((a, v) => a + v, 0) / (24 * 32))}; ` +
    `equals the per-view API merged by hand: ${meanAbsDiff(byHand.data, merged.data) < 1e-6 ? 'yes' : 'NO'}`)
}

// Classification with ten crops, then with d4, merged by vote and by mean.
console.log(`\nClassification · ten-crop 16×16 (flip × five crops) · model: global features, 3 classes`)
const tenCrop = orThrow(aliases.tenCrop(16, 16))
console.log(`${pad('view', 47)}${pad('shape', 10)}scores`)
for (const view of runnableViews(tenCrop)) {
  const augmented = orThrow(view.augmentImage(image))
  const scores = await featureClassifier(augmented)
  console.log(`${pad(view.spec.name, 47)}${pad(augmented.shape.slice(2).join('×'), 10)}[${Array.from(scores.data, fmt).join(', ')}]`)
}
for (const mode of ['mean', 'vote'] as const) {
  const scores = orThrow(await wrap.classification(featureClassifier, tenCrop, { merge: mode }).run(image)())
  console.log(`merged (${mode}): [${Array.from(scores.data, fmt).join(', ')}]`)
}
const single = await featureClassifier(image)
console.log(`single pass:   [${Array.from(single.data, fmt).join(', ')}]`)

// What the types refuse, shown as the run-time errors an untyped caller gets.
console.log('\nWhat cannot be undone is refused (a compile error in TypeScript; a typed error at run time):')
const [cropView] = runnableViews(tenCrop)
if (cropView !== undefined) {
  const undo = resolveUndoMask(cropView.spec.steps, 24, 32)
  if (E.isLeft(undo)) console.log(`  masks through ten-crop → ${undo.left._tag}: ${undo.left.message}`)
}
const angleFromAConfigFile: number = 45
const badTurn = aliases.rotate90([angleFromAConfigFile])
if (E.isLeft(badTurn)) console.log(`  rotate90([45]) → ${badTurn.left._tag}: ${badTurn.left.message}`)
