/**
 * `tta-lens search`, `eval --policy` and `run --policy` as a user runs them, on the bundled
 * Fashion-MNIST CNN and a few hundred images of the split's halves (a small pool, so it is quick):
 * the step table and the policy file, a rerun that reads every view from the cache, the
 * evaluation tables, labels from a policy, and the refusals (exit 2, one line).
 */
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { decodePolicy } from '../../src/index.js'
import { cliRunner } from './run-cli.js'

const assets = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const model = `${assets}cnn_aug.onnx`
const idx = ['--idx', `${assets}t10k-images-idx3-ubyte.gz`, `${assets}t10k-labels-idx1-ubyte.gz`]
const split = ['--split', `${assets}split.json`]

const tta = cliRunner(120_000)

let folder = ''
let policy = ''
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'tta-lens-policy-cli-'))
  policy = join(folder, 'policy.json')
})

describe('tta-lens search', () => {
  it('writes a policy file and its step table; a rerun reads every view from the cache', async () => {
    const args = ['search', '-m', model, ...idx, ...split, '--limit', '400', '--candidates', 'hflip; hshift:1', '--max-views', '3', '--threads', '1', '-o', policy]
    const first = await tta(...args)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/search: 4 candidate views on 400 items \(.*split\.json#selection\)/)
    expect(first.stderr).toMatch(/predictions: 4 views run, 0 read from the cache/)
    expect(first.stdout).toMatch(/^step +action +view +merge +NLL +accuracy +fixed +broken +T\n0 +none +identity +none \(single pass\)/)
    expect(first.stdout).toMatch(/wrote .*policy\.json/)
    const json: unknown = JSON.parse(await readFile(policy, 'utf8'))
    const decoded = decodePolicy(json)
    expect(decoded._tag).toBe('Right')
    if (decoded._tag === 'Right') {
      expect(decoded.right.file.model).toMatchObject({ input: [1, 28, 28], classes: 10, scores: 'logits', name: 'cnn_aug.onnx' })
      expect(decoded.right.file.selection?.items).toBe(400)
      expect(decoded.right.file.search?.steps[0]?.action).toBe('none')
      expect(decoded.right.views.length).toBeLessThanOrEqual(3)
    }
    const again = await tta(...args)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toMatch(/predictions: 0 views run, 4 read from the cache/)
    expect(again.stdout.split('\n').filter((l) => /^\d/.test(l))).toEqual(first.stdout.split('\n').filter((l) => /^\d/.test(l)))
  })

  it('refuses a budget of 0, an unknown candidate and a selection set that misses classes, exit 2 and one line', async () => {
    const zero = await tta('search', '-m', model, ...idx, '--max-views', '0', '-o', join(folder, 'zero.json'))
    expect(zero.code).toBe(2)
    expect(zero.stderr).toMatch(/^tta-lens: .*a search budget is a whole number of views ≥ 1.*got '0'/)
    const shear = await tta('search', '-m', model, ...idx, '--candidates', 'shear:0.1', '-o', join(folder, 'shear.json'))
    expect(shear.code).toBe(2)
    expect(shear.stderr).toMatch(/^tta-lens: ParamError: --candidates: unknown candidate 'shear'/)
    const few = await tta('search', '-m', model, ...idx, '--limit', '5', '--candidates', 'hflip', '-o', join(folder, 'few.json'))
    expect(few.code).toBe(2)
    expect(few.stderr).toMatch(/PolicyError: the selection set has no item of class .*: a policy chosen on it would never be tested/)
    expect(few.stderr.trim().split('\n').filter((l) => l.startsWith('tta-lens:')).length).toBe(1)
  })
})

describe('tta-lens eval --policy and run --policy', () => {
  it('measures the policy on the evaluation half against no TTA, with uncertainty and early exit', async () => {
    const result = await tta('eval', '-m', model, '--channels', '1', '--threads', '1', ...idx, ...split, '--limit', '300', '--policy', policy, '--uncertainty', '--early-exit', '0.5', '--min-views', '1')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/on 300 items \(.*split\.json#evaluation\)/)
    expect(result.stdout).toMatch(/\n {2}none +1 +\d+\.\d\d% +— +— +— +\d/)
    expect(result.stdout).toMatch(/\n {2}policy +\d +\d+\.\d\d% +\d+ +\d+ +p [=≈]/)
    expect(result.stdout).toMatch(/early exit ≥ 0.5, ≥ 1 view .*calls saved \d+\.\d%/)
    expect(result.stdout).toMatch(/single pass: 1 − max softmax +0\.\d{4} +0\.\d{4}/)
    expect(result.stdout).toMatch(/policy: 1 − view agreement/)
  })

  it('labels images with a policy: calibrated probabilities that sum to 1', async () => {
    const pixels = Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => ((i % 28) > 8 && (i % 28) < 20 ? 200 : 0)))
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(folder, 'trousers.png'))
    const out = join(folder, 'labels')
    const result = await tta('run', join(folder, 'trousers.png'), '-m', model, '--channels', '1', '--policy', policy, '-o', out)
    expect(result.code, result.stderr).toBe(0)
    const record: unknown = JSON.parse(await readFile(join(out, 'trousers.json'), 'utf8'))
    expect(record).toMatchObject({ policy, merge: 'policy' })
    const scores = typeof record === 'object' && record !== null && 'scores' in record && Array.isArray(record.scores) ? record.scores.map(Number) : []
    expect(scores.length).toBe(10)
    expect(scores.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5)
  })

  it('refuses a corrupt policy file and a policy for another model', async () => {
    const corrupt = join(folder, 'corrupt.json')
    await import('node:fs/promises').then((fs) => fs.writeFile(corrupt, '{"format": "tta-lens-policy", "version": 1, "task": "classif'))
    const bad = await tta('eval', '-m', model, '--channels', '1', ...idx, '--policy', corrupt)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^tta-lens: PolicyError: .*corrupt\.json: the policy file is not JSON/)
    const other = await tta('eval', '-m', new URL('../fixtures/models/cls_gap_softmax.onnx', import.meta.url).pathname, ...idx, '--limit', '20', '--policy', policy)
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/PolicyError: the policy was made for a model of input \[N,1,28,28\], but this model takes \[N,3,H,W\]/)
  })
})
