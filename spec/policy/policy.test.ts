/**
 * The policy layer end to end on a small model whose answer depends on the view: what the search
 * measured is what a wrapper runs, every merge mode included; bad input gives typed errors that
 * name the problem; an interrupted collection resumes from its store.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  collectPredictions, decodePolicy, encodePolicy, fitTemperature, memoryStore, orThrow, parsePolicyText, parsePool, policyFromSearch,
  searchPolicy, tensor, weightedScores, wrap, type LabelledSet, type PolicyFile, type PolicyMerge, type Tensor, type ViewOps,
} from '../../src/index.js'
import { folderStore } from '../../src/io/policy-files.js'
import { commit, emptyState, scoresWith } from '../../src/policy/merges.js'

// 3 classes from a 6x6 grey image: a fixed linear map of the pixels, so shifts and mirrors change the answer.
const weights = Array.from({ length: 3 * 36 }, (_, k) => Math.sin(k * 1.7) * 0.8 + ((k % 36) % 6 < 3 === (Math.floor(k / 36) === 0) ? 0.3 : -0.1))
const linear = async (x: Tensor<readonly ['N', 1, 6, 6]>) => {
  const n = x.shape[0]
  const out = new Float32Array(n * 3)
  for (let b = 0; b < n; b++) for (let c = 0; c < 3; c++) {
    let s = 0
    for (let p = 0; p < 36; p++) s += (weights[c * 36 + p] ?? 0) * (x.data[b * 36 + p] ?? 0)
    out[b * 3 + c] = s
  }
  return orThrow(tensor([n, 3], out))
}
const items = 90
const images = Float32Array.from({ length: items * 36 }, (_, k) => (Math.sin(k * 12.9898) * 43758.5453) % 1 + 0.5)
const labelsOf = async (): Promise<Int32Array> => {
  // Labels: the model's own answer on a slightly different image, so it is right most of the time.
  const nudged = Float32Array.from(images, (v, k) => v + 0.4 * Math.cos(k * 3.1))
  const out = await linear(orThrow(tensor([items, 1, 6, 6], nudged)))
  return Int32Array.from({ length: items }, (_, i) => [0, 1, 2].reduce((best, c) => ((out.data[i * 3 + c] ?? 0) > (out.data[i * 3 + best] ?? 0) ? c : best), 0))
}
const poolText = 'hflip; shift:1; zoom:0.9,1.1; contrast:1.2'
const pool = orThrow(parsePool(poolText, 6, 6))

const nllOf = (probs: Float32Array, labels: ArrayLike<number>): number => {
  let total = 0
  for (let i = 0; i < labels.length; i++) total -= Math.log(probs[i * 3 + (labels[i] ?? 0)] ?? 0)
  return total / labels.length
}
const fileOf = (views: readonly ViewOps[], merge: PolicyMerge): PolicyFile => ({
  format: 'tta-lens-policy', version: 1, task: 'classification',
  model: { input: [1, 6, 6], classes: 3, scores: 'logits' },
  views: views.map((ops) => ({ name: 'v', ops: [...ops] })),
  merge: { mode: merge.mode, over: merge.over, temperature: merge.temperature, ...(merge.weights === undefined ? {} : { weights: merge.weights.map((r) => [...r]) }) },
})

describe('what the search measures is what runs', () => {
  it('the searched policy, written and read back, scores its selection NLL through wrap.classification', async () => {
    const labels = await labelsOf()
    const set: LabelledSet = { shape: [items, 1, 6, 6], images, labels }
    const cache = orThrow(await collectPredictions(linear, set, pool))
    const found = orThrow(searchPolicy(cache, labels, { budget: { views: 4 } }))
    expect(found.steps.length).toBeGreaterThan(1)
    const file = policyFromSearch(found, { task: 'classification', model: { input: [1, 6, 6], classes: 3, scores: 'logits' }, pool, budget: { views: 4 }, items })
    const policy = orThrow(parsePolicyText(encodePolicy(file)))
    const probs = orThrow(await wrap.classification(linear, policy).run(orThrow(tensor([items, 1, 6, 6], images)))())
    expect(nllOf(probs.data, labels)).toBeCloseTo(found.chosen.nll, 5)
  })

  it('every merge mode: the wrapper\'s calibrated probabilities give the NLL the offline merge gives', async () => {
    const labels = await labelsOf()
    const set: LabelledSet = { shape: [items, 1, 6, 6], images, labels }
    const cache = orThrow(await collectPredictions(linear, set, pool))
    const chosen = [0, 1, 3]
    const state = emptyState(items * 3)
    for (const v of chosen) commit(state, cache, v)
    const uniform = [
      { mode: 'mean', over: 'logits' }, { mode: 'mean', over: 'probabilities' }, { mode: 'gmean', over: 'probabilities' },
      { mode: 'tsharpen', over: 'probabilities' }, { mode: 'max', over: 'probabilities' }, { mode: 'vote', over: 'logits' },
    ] as const
    const run = async (merge: PolicyMerge): Promise<number> => {
      const policy = orThrow(decodePolicy(fileOf(chosen.map((v) => pool[v] ?? []), merge)))
      return nllOf(orThrow(await wrap.classification(linear, policy).run(orThrow(tensor([items, 1, 6, 6], images)))()).data, labels)
    }
    for (const m of uniform) {
      const offline = fitTemperature(scoresWith(new Float64Array(items * 3), state, cache, undefined, m), labels, 3)
      expect(await run({ ...m, temperature: offline.temperature }), `${m.mode}/${m.over}`).toBeCloseTo(offline.nll, 5)
    }
    for (const over of ['logits', 'probabilities'] as const) {
      const weightsPerClass = [[0.5, 0.2, 0.1], [0.3, 0.3, 0.6], [0.2, 0.5, 0.3]]
      const offline = fitTemperature(weightedScores(cache, chosen, weightsPerClass, over), labels, 3)
      expect(await run({ mode: 'sum', over, weights: weightsPerClass, temperature: offline.temperature }), `sum/${over}`).toBeCloseTo(offline.nll, 5)
    }
  })
})

describe('bad input is a typed error that names the problem', () => {
  it('a selection set with a class missing', async () => {
    const set: LabelledSet = { shape: [items, 1, 6, 6], images, labels: new Int32Array(items).map((_, i) => i % 2) }
    const cache = orThrow(await collectPredictions(linear, set, pool.slice(0, 2)))
    const found = searchPolicy(cache, set.labels, { budget: { views: 2 } })
    expect(E.isLeft(found) && found.left._tag === 'PolicyError' && found.left.problem).toBe('selection')
    expect(E.isLeft(found) && found.left.message).toMatch(/no item of class 2/)
  })

  it('a budget of 0, or not a number', async () => {
    const labels = await labelsOf()
    const cache = orThrow(await collectPredictions(linear, { shape: [items, 1, 6, 6], images, labels }, pool.slice(0, 2)))
    for (const views of [0, 1.5, Number.NaN]) {
      const found = searchPolicy(cache, labels, { budget: { views } })
      expect(E.isLeft(found) && found.left._tag === 'PolicyError' && found.left.problem, String(views)).toBe('budget')
    }
  })

  it('a candidate that fails on some images: the view and the images are named', async () => {
    const labels = await labelsOf()
    // The model refuses any image whose first pixel is exactly 0 — which a 1-px shift right creates.
    const fussy = async (x: Tensor<readonly ['N', 1, 6, 6]>) => {
      for (let b = 0; b < x.shape[0]; b++) if (x.data[b * 36] === 0) throw new Error('a black corner')
      return linear(x)
    }
    const shifted = await collectPredictions(fussy, { shape: [items, 1, 6, 6], images, labels }, [[], [{ op: 'translate', dy: 0, dx: 1 }]], { imagesPerRun: 30 })
    expect(E.isLeft(shifted) && shifted.left._tag === 'PolicyError' && shifted.left.problem).toBe('candidate')
    expect(E.isLeft(shifted) && shifted.left.message).toMatch(/candidate 'shift\(0,\+1\)' fails on images 0, 1, 2, 3, 4 and maybe more: ModelError: .*a black corner/)
    // Non-finite outputs on some images are named too: the model gives NaN for image 7 only.
    const nanny = async (x: Tensor<readonly ['N', 1, 6, 6]>) => {
      const out = await linear(x)
      return orThrow(tensor([x.shape[0], 3], out.data.map((v, k) => (x.data[Math.floor(k / 3) * 36] === images[7 * 36] ? Number.NaN : v))))
    }
    const bad = await collectPredictions(nanny, { shape: [items, 1, 6, 6], images, labels }, [[]])
    expect(E.isLeft(bad) && bad.left._tag === 'PolicyError' && bad.left.message).toMatch(/^candidate 'identity' fails on image 7: .*NaN/)
  })

  it('a corrupt policy file, a newer version, inconsistent merges, another model', async () => {
    const base = fileOf([[], [{ op: 'hflip' }]], { mode: 'mean', over: 'logits', temperature: 1 })
    const cases: readonly [unknown, string, RegExp][] = [
      ['{"format": "tta-lens-policy", "versi', 'corrupt', /not JSON/],
      [{ hello: 'world' }, 'corrupt', /not a policy file/],
      [{ ...base, version: 7 }, 'version', /format version 7.*reads up to version 1/],
      [{ ...base, views: [{ name: 'x', ops: [{ op: 'shear' }] }] }, 'corrupt', /not a valid version-1 policy.*views/],
      [{ ...base, merge: { mode: 'gmean', over: 'logits', temperature: 1 } }, 'corrupt', /gmean merges probabilities, not logits/],
      [{ ...base, merge: { mode: 'sum', over: 'logits', temperature: 1, weights: [[0.7], [0.7]] } }, 'corrupt', /sum to 1.4/],
      [{ ...base, merge: { mode: 'mean', over: 'logits', temperature: 0 } }, 'corrupt', /temperature must be a number > 0/],
      [{ ...base, views: [{ name: 'x', ops: [{ op: 'translate', dy: 0.5, dx: 0 }] }] }, 'corrupt', /whole pixels/],
    ]
    for (const [input, problem, message] of cases) {
      const decoded = typeof input === 'string' ? parsePolicyText(input) : decodePolicy(input)
      expect(E.isLeft(decoded) && decoded.left.problem, JSON.stringify(input).slice(0, 60)).toBe(problem)
      expect(E.isLeft(decoded) && decoded.left.message).toMatch(message)
    }
    const policy = orThrow(decodePolicy(base))
    const wider = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => orThrow(tensor([x.shape[0], 3], new Float32Array(x.shape[0] * 3)))
    const other = await wrap.classification(wider, policy).run(orThrow(tensor([1, 1, 8, 8], new Float32Array(64))))()
    expect(E.isLeft(other) && other.left._tag === 'PolicyError' && other.left.problem).toBe('model')
    const fiveClasses = async (x: Tensor<readonly ['N', 1, 6, 6]>) => orThrow(tensor([x.shape[0], 5], new Float32Array(x.shape[0] * 5)))
    const classes = await wrap.classification(fiveClasses, policy).run(orThrow(tensor([1, 1, 6, 6], new Float32Array(36))))()
    expect(E.isLeft(classes) && classes.left.message).toMatch(/made for a model with 3 classes/)
  })
})

describe('resuming an interrupted collection', () => {
  it('a rerun with the same folder store runs only the views it had not finished', async () => {
    const labels = await labelsOf()
    const set: LabelledSet = { shape: [items, 1, 6, 6], images, labels }
    const dir = await mkdtemp(join(tmpdir(), 'tta-policy-resume-'))
    let calls = 0
    let dead = false
    // The first run dies at its third view (as a killed process would: the store keeps what was finished).
    const flaky = async (x: Tensor<readonly ['N', 1, 6, 6]>) => {
      calls++
      if (dead && calls === 3) throw new Error('killed')
      return linear(x)
    }
    dead = true
    const first = await collectPredictions(flaky, set, pool.slice(0, 4), { store: folderStore(dir), modelKey: 'linear' })
    expect(E.isLeft(first)).toBe(true)
    dead = false
    calls = 0
    const second = orThrow(await collectPredictions(flaky, set, pool.slice(0, 4), { store: folderStore(dir), modelKey: 'linear' }))
    expect(calls).toBe(2) // views 3 and 4; views 1 and 2 came from the store
    const fresh = orThrow(await collectPredictions(linear, set, pool.slice(0, 4), { store: memoryStore() }))
    second.views.forEach((v, k) => expect(Array.from(v.raw)).toEqual(Array.from(fresh.views[k]?.raw ?? [])))
    // Another model key never reuses these entries.
    calls = 0
    orThrow(await collectPredictions(flaky, set, pool.slice(0, 4), { store: folderStore(dir), modelKey: 'another model' }))
    expect(calls).toBe(4)
  })
})
