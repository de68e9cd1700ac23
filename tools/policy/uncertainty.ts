/**
 * How well uncertainty from a TTA pass flags a model's errors, for each bundled Fashion-MNIST CNN,
 * on the evaluation half: every view of the standard 20-view candidate pool merged as a mean of
 * probabilities, with the four streamed measures, against the single pass's max-softmax. (The
 * searched policies are measured by `tta-lens eval --policy … --uncertainty`; the plain CNN's
 * policy has one view, which has nothing to disagree with — this pass gives both CNNs the same
 * 20 views.)
 *
 *   npx tsx tools/policy/uncertainty.ts [--threads 2]
 */
import { readFile } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import { decodeIndexSplit, decodePolicy, evaluatePolicy, namedViews, parsePool, standardPool, subset } from '../../src/index.js'
import { onnx } from '../../src/node.js'
import { readIdx } from '../../src/io/idx.js'

const threads = Number(process.argv[process.argv.indexOf('--threads') + 1] ?? 2) || 2
const assets = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const must = <A>(e: E.Either<{ readonly message: string }, A>): A => { if (E.isLeft(e)) throw new Error(e.left.message); return e.right }
const images = must(await readIdx(`${assets}t10k-images-idx3-ubyte.gz`))
const labels = must(await readIdx(`${assets}t10k-labels-idx1-ubyte.gz`))
const all = { shape: [10000, 1, 28, 28] as const, images: Float32Array.from(images.data, (v) => v / 255), labels: labels.data }
const split = must(decodeIndexSplit(JSON.parse(await readFile(`${assets}split.json`, 'utf8')), 10000))
const evaluation = must(subset(all, split.evaluation))
const pool = must(parsePool(standardPool, 28, 28))
const policy = must(decodePolicy({
  format: 'tta-lens-policy', version: 1, task: 'classification', model: { input: [1, 28, 28], classes: 10, scores: 'logits' },
  views: namedViews(pool), merge: { mode: 'mean', over: 'probabilities', temperature: 1 },
}))
console.log('| model | measure | AUROC, single-pass errors | AUROC, 20-view errors |\n| --- | --- | ---: | ---: |')
for (const file of ['cnn_aug.onnx', 'cnn_plain.onnx']) {
  const model = must(await onnx.open(`${assets}${file}`, { threads })())
  const measured = must(await evaluatePolicy(model, evaluation, policy, { uncertainty: true, imagesPerRun: 1000 }))
  for (const f of measured.flags ?? []) console.log(`| ${file} | ${f.measure.replace('policy:', '20 views:')} | ${f.singlePassErrors.toFixed(4)} | ${f.policyErrors.toFixed(4)} |`)
  console.log(`| ${file} | (accuracy: single pass ${(100 * measured.none.accuracy).toFixed(2)}%, 20 views ${(100 * measured.policy.accuracy).toFixed(2)}%) | | |`)
  await model.release()
}
