/**
 * Detection in the shared file runner: a run spec carries its detection settings across a thread or
 * a queue and they are checked on arrival as the CLI's flags are; a worker refuses a spec whose
 * model no head decodes, whose settings are missing or whose weights do not match its views, before
 * any input; and the runner writes the record the CLI writes, boxes in the input's pixels.
 */
import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, tensor, type Tensor } from '../../src/index.js'
import { decodeSpec, fileRunner, openFileRunner, type RunSpec } from '../../src/queue/index.js'
import { packageVersion } from '../../src/io/package.js'

const classifier = new URL('../fixtures/models/cls_gap_softmax.onnx', import.meta.url).pathname
const settings = { headOptions: {}, fusion: { method: 'wbf' }, minScore: 0 } as const
const spec = (extra: Partial<RunSpec>): RunSpec => ({
  kind: 'run', version: packageVersion(), cwd: process.cwd(), model: classifier, task: 'detection', policy: { tta: 'hflip', label: 'hflip' },
  merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out: 'out', suffixes: ['.json'], coordinates: 'pixels', force: false, ...extra,
})

describe('a detection run spec', () => {
  it('decodes with its settings, and a bad fusion or minimum score in them is a ParamError naming the field', () => {
    expect(E.isRight(decodeSpec(spec({ detection: { ...settings, fusion: { method: 'nms', iouThreshold: 0.4 }, head: 'db' } })))).toBe(true)
    const badFusion = decodeSpec({ ...spec({}), detection: { ...settings, fusion: { method: 'wbf', iouThreshold: 2 } } })
    expect(E.isLeft(badFusion) && badFusion.left.message).toMatch(/^job spec: .*iouThreshold/)
    const badScore = decodeSpec({ ...spec({}), detection: { ...settings, minScore: 1.5 } })
    expect(E.isLeft(badScore) && badScore.left.message).toMatch(/^job spec: .*minScore/)
    const badHead = decodeSpec({ ...spec({}), detection: { ...settings, headOptions: { unclipRatio: 0 } } })
    expect(E.isLeft(badHead) && badHead.left.message).toMatch(/^job spec: .*unclipRatio/)
  })

  it('is refused when opened: a model no head decodes, no settings, weights that do not match the views', async () => {
    const noHead = await openFileRunner(spec({ detection: settings }))
    expect(E.isLeft(noHead) && noHead.left.message).toMatch(/needs a head that turns this model's output \[.*\] into boxes/)
    const missing = await openFileRunner(spec({}))
    expect(E.isLeft(missing) && missing.left.message).toBe('a detection run spec needs its detection settings (head, fusion, minimum score)')
    const weights = await openFileRunner(spec({ detection: { ...settings, fusion: { method: 'wbf', weights: [1] } } }))
    expect(E.isLeft(weights) && weights.left.message).toMatch(/^--weights has 1 entry for the 2 views of hflip/)
  })
})

describe('fileRunner with task detection', () => {
  // A "text detector" whose map is the image's first channel (the head pads views to 32).
  const net = Object.assign(async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
    const [n, , h, w] = x.shape
    const map = new Float32Array(n * h * w)
    for (let b = 0; b < n; b++) map.set(x.data.subarray(b * 3 * h * w, b * 3 * h * w + h * w), b * h * w)
    return orThrow(tensor([n, 1, h, w], map))
  }, { signature: { input: ['N', 3, 'H', 'W'], output: ['N', 1, 'H', 'W'] } })

  it('writes the record: boxes in the file\'s pixels, the views, head and fusion; a run without settings fails the input', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tta-det-runner-'))
    // a bright bar on black, 40×24: one text line
    const pixels = Buffer.alloc(24 * 40 * 3)
    for (let y = 6; y < 14; y++) for (let x = 5; x < 33; x++) pixels.fill(240, (y * 40 + x) * 3, (y * 40 + x) * 3 + 3)
    await sharp(pixels, { raw: { width: 40, height: 24, channels: 3 } }).png().toFile(join(dir, 'bar.png'))
    const base = { task: 'detection', preprocess: { channels: 3 }, policyLabel: 'hflip', merge: 'mean', coordinates: 'pixels', execution: {}, force: false } as const
    const runner = fileRunner({ ...base, detection: settings }, net, aliases.hflip())
    expect(await runner.run({ input: join(dir, 'bar.png'), outputs: [join(dir, 'bar.json')] })).toEqual({ status: 'written' })
    const record: unknown = JSON.parse(await readFile(join(dir, 'bar.json'), 'utf8'))
    expect(record).toMatchObject({ image: join(dir, 'bar.png'), width: 40, height: 24, policy: 'hflip', head: { name: 'db' }, fusion: { method: 'wbf' }, minScore: 0 })
    const boxes = typeof record === 'object' && record !== null && 'boxes' in record && Array.isArray(record.boxes) ? record.boxes : []
    expect(boxes).toHaveLength(1)
    const [[x1, y1, x2, y2] = []] = boxes
    // DB grows the kernel back (unclip), so the box holds the bar and stays near it
    expect([x1 <= 5, y1 <= 6, x2 >= 33, y2 >= 14, x1 >= 0, y1 >= 0, x2 <= 40, y2 <= 24]).toEqual(Array(8).fill(true))
    const without = fileRunner(base, net, aliases.hflip())
    const failed = await without.run({ input: join(dir, 'bar.png'), outputs: [join(dir, 'other.json')] })
    expect(failed).toEqual({ status: 'failed', reason: 'ParamError: a detection run needs its detection settings (head, fusion, minimum score)', retry: false })
  })
})
