/**
 * The shipped selection / evaluation halves: disjoint, covering, stratified, and what
 * tools/splits/make_splits.ts regenerates (the files are the data; the script documents them).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { decodeIndexSplit, decodeNameSplit, orThrow } from '../../src/index.js'

const root = new URL('../../', import.meta.url).pathname
const json = (path: string): unknown => JSON.parse(readFileSync(`${root}${path}`, 'utf8'))

describe('Fashion-MNIST split', () => {
  const labels = gunzipSync(readFileSync(`${root}assets/fashion-mnist/t10k-labels-idx1-ubyte.gz`)).subarray(8)
  const split = orThrow(decodeIndexSplit(json('assets/fashion-mnist/split.json'), labels.length))

  it('has no evaluation image in selection, and together they are the whole test set', () => {
    const selection = new Set(split.selection)
    expect(split.evaluation.filter((i) => selection.has(i))).toEqual([])
    expect(split.selection.length).toBe(5000)
    expect(split.evaluation.length).toBe(5000)
    expect(new Set([...split.selection, ...split.evaluation]).size).toBe(10000)
  })

  it('holds 500 images of each class in each half', () => {
    for (const half of [split.selection, split.evaluation]) {
      const counts = new Array<number>(10).fill(0)
      for (const i of half) counts[labels[i] ?? 0] = (counts[labels[i] ?? 0] ?? 0) + 1
      expect(counts).toEqual(new Array<number>(10).fill(500))
    }
  })
})

describe('text-detection split', () => {
  const truth = json('assets/textdet/truth.json')
  const files = typeof truth === 'object' && truth !== null && 'images' in truth && Array.isArray(truth.images)
    ? truth.images.map((im: unknown) => (typeof im === 'object' && im !== null && 'file' in im ? String(im.file) : '')) : []
  const split = orThrow(decodeNameSplit(json('assets/textdet/split.json')))

  it('has no evaluation image in selection, 40 in each, every image of the set once', () => {
    const selection = new Set(split.selection)
    expect(split.evaluation.filter((f) => selection.has(f))).toEqual([])
    expect([split.selection.length, split.evaluation.length]).toEqual([40, 40])
    expect([...split.selection, ...split.evaluation].sort()).toEqual([...files].sort())
  })
})

describe('the split files', () => {
  it('are what tools/splits/make_splits.ts regenerates', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', `${root}tools/splits/make_splits.ts`, '--check'], { cwd: root })
    expect(stdout).toMatch(/both split files match/)
  })

  it('a leak or a repeat is refused, naming the item', () => {
    const leak = decodeIndexSplit({ selection: [0, 5], evaluation: [5] }, 10)
    expect(leak._tag === 'Left' && leak.left.message).toMatch(/5 is in both selection and evaluation/)
    const twice = decodeNameSplit({ selection: ['a', 'a'], evaluation: [] })
    expect(twice._tag === 'Left' && twice.left.message).toMatch(/a appears twice in selection/)
  })
})
