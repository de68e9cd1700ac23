/**
 * Writes the fixed selection / evaluation halves used to choose TTA policies honestly (issue 8):
 *
 * - assets/fashion-mnist/split.json: the official 10,000 test images split into two halves of
 *   5,000, stratified by class (500 + 500 of each of the 10 classes);
 * - assets/textdet/split.json: the 80 text images split into two halves of 40, stratified by
 *   orientation (upright / turned 90° counter-clockwise / turned clockwise) and image size.
 *
 * Method: inside each stratum, items in their file order are shuffled with a Fisher–Yates shuffle
 * driven by mulberry32(seed); the first half of the stratum (rounded down, with odd leftovers
 * alternating between the halves in stratum order) goes to selection, the rest to evaluation.
 * Each list is then sorted. The files are the data: everything reads them, nothing re-derives
 * them. This script only documents how they were made and checks that they still match:
 *
 *   npx tsx tools/splits/make_splits.ts           # writes both files
 *   npx tsx tools/splits/make_splits.ts --check   # exits 1 unless both files match a regeneration
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import * as E from 'fp-ts/lib/Either.js'
import { readTruth } from '../../src/textdet/node.js'
import { mulberry32 } from '../../src/eval/random.js'

const SEED = 20260801
const root = new URL('../../', import.meta.url).pathname


const shuffled = <A>(items: readonly A[], next: () => number): A[] => {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    const a = out[i]
    const b = out[j]
    if (a === undefined || b === undefined) continue
    out[i] = b
    out[j] = a
  }
  return out
}

/** Splits items by stratum key (strata in order of first appearance). */
const halves = <A>(items: readonly A[], key: (item: A) => string, seed: number): { selection: A[]; evaluation: A[] } => {
  const next = mulberry32(seed)
  const strata = new Map<string, A[]>()
  for (const item of items) strata.set(key(item), [...(strata.get(key(item)) ?? []), item])
  const selection: A[] = []
  const evaluation: A[] = []
  let oddToSelection = true
  for (const members of strata.values()) {
    const order = shuffled(members, next)
    let cut = Math.floor(order.length / 2)
    if (order.length % 2 === 1) {
      if (oddToSelection) cut++
      oddToSelection = !oddToSelection
    }
    selection.push(...order.slice(0, cut))
    evaluation.push(...order.slice(cut))
  }
  return { selection, evaluation }
}

const fashion = (): string => {
  const labels = gunzipSync(readFileSync(`${root}assets/fashion-mnist/t10k-labels-idx1-ubyte.gz`)).subarray(8)
  const indices = Array.from({ length: labels.length }, (_, i) => i)
  const { selection, evaluation } = halves(indices, (i) => String(labels[i]), SEED)
  const json = {
    about: 'Fixed halves of the official Fashion-MNIST test set (t10k, 10,000 images): choose TTA policies on "selection", report on "evaluation". Indices into t10k-images/t10k-labels, 0-based, sorted. Stratified by class: 500 + 500 per class. Made by tools/splits/make_splits.ts.',
    seed: SEED,
    method: 'per class, indices in file order shuffled by Fisher-Yates with mulberry32(seed); first half to selection',
    total: labels.length,
    selection: selection.sort((a, b) => a - b),
    evaluation: evaluation.sort((a, b) => a - b),
  }
  return `${JSON.stringify(json, (k, v: unknown) => (k === 'selection' || k === 'evaluation' ? `@@${JSON.stringify(v)}@@` : v), 2).replace(/"@@(.*)@@"/g, '$1')}\n`
}

const textdet = async (): Promise<string> => {
  const truth = await readTruth(`${root}assets/textdet/`)()
  if (E.isLeft(truth)) throw new Error(truth.left.message)
  const { selection, evaluation } = halves(truth.right, (im) => `${im.turn}:${im.width}x${im.height}`, SEED)
  const json = {
    about: 'Fixed halves of the 80-image text-detection set: choose TTA policies on "selection", report on "evaluation". File names as in truth.json, sorted. Stratified by turn (0, 90, 270) and image size. Made by tools/splits/make_splits.ts.',
    seed: SEED,
    method: 'per (turn, size) stratum, files in truth.json order shuffled by Fisher-Yates with mulberry32(seed); first half to selection, odd leftovers alternating',
    total: truth.right.length,
    selection: selection.map((im) => im.file).sort(),
    evaluation: evaluation.map((im) => im.file).sort(),
  }
  return `${JSON.stringify(json, null, 2)}\n`
}

const outputs: readonly [string, string][] = [
  [`${root}assets/fashion-mnist/split.json`, fashion()],
  [`${root}assets/textdet/split.json`, await textdet()],
]
if (process.argv.includes('--check')) {
  const stale = outputs.filter(([path, text]) => { try { return readFileSync(path, 'utf8') !== text } catch { return true } })
  for (const [path] of stale) process.stderr.write(`${path} does not match a regeneration\n`)
  if (stale.length === 0) process.stdout.write('both split files match a regeneration\n')
  process.exitCode = stale.length === 0 ? 0 : 1
} else {
  for (const [path, text] of outputs) writeFileSync(path, text)
  process.stdout.write(`wrote ${outputs.map(([p]) => p.replace(root, '')).join(', ')}\n`)
}
