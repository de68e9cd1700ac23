/**
 * `tta-lens run / eval / explain / bench -t detection` end to end with PP-OCRv4's text detector
 * (its DB head chosen from the model's output) on images of the bundled evaluation set: one JSON
 * per image, the same bytes from the single process, from `--workers` threads and from queue
 * workers (the shared file runner), scoring against a truth file, and the refusals before any work.
 * Subprocess limits are generous: the machine these run on may be busy.
 */
import { createHash } from 'node:crypto'
import { copyFile, mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { beforeAll, describe, expect, it } from 'vitest'
import { textdet } from '../../src/node.js'
import { skipReason, startRedis } from '../queue/redis-server.js'
import { cliRunner } from './run-cli.js'

const Found = t.type({ boxes: t.array(t.tuple([t.number, t.number, t.number, t.number])), scores: t.array(t.number), labels: t.array(t.number) })
const ppocr = ['--bgr', '--mean', '0.485,0.456,0.406', '--std', '0.229,0.224,0.225', '--threads', '2']
const classifier = new URL('../fixtures/models/cls_gap_softmax.onnx', import.meta.url).pathname

/** Every file in `dir` (names sorted) with a hash of its bytes. */
const hashes = async (dir: string): Promise<Readonly<Record<string, string>>> => {
  const out: Record<string, string> = {}
  for (const name of (await readdir(dir)).sort()) out[name] = createHash('sha1').update(await readFile(join(dir, name))).digest('hex')
  return out
}

const tta = cliRunner(200_000)

let folder = ''
let model = ''
let truth: readonly textdet.TruthImage[] = []
beforeAll(async () => {
  const path = await textdet.detectorPath()
  if (E.isLeft(path)) throw new Error(path.left.message)
  model = path.right
  const all = await textdet.readTruth()()
  if (E.isLeft(all)) throw new Error(all.left.message)
  // one upright and one turned image
  truth = [all.right.find((r) => r.turn === 0 && r.width === 640), all.right.find((r) => r.turn !== 0 && r.width === 640)].filter((r) => r !== undefined)
  folder = await mkdtemp(join(tmpdir(), 'tta-lens-det-'))
  await mkdir(join(folder, 'images'))
  for (const r of truth) await copyFile(join(textdet.EVAL_SET_DIR, r.file), join(folder, r.file))
  await writeFile(join(folder, 'truth.json'), JSON.stringify({ images: truth.map((r) => ({ file: r.file, width: r.width, height: r.height, boxes: r.lines.map((l) => l.box) })) }))
}, 60_000)

describe('tta-lens run -t detection', () => {
  it('writes one JSON per image: boxes in its pixels, scores above --min-score, the views, head and fusion; a rerun skips', async () => {
    const out = join(folder, 'boxes')
    const first = await tta('run', join(folder, 'images'), '-m', model, '-t', 'detection', ...ppocr, '--tta', 'hflip', '--fusion', 'wbf', '--iou-threshold', '0.5', '--min-score', '0.3', '-o', out)
    expect(first.stderr.split('\n').filter((l) => l.startsWith('failed') || l.startsWith('tta-lens'))).toEqual([])
    expect([first.code, first.stdout]).toEqual([0, `2 written, 0 already done (skipped), 0 failed → ${out}\n`])
    expect((await readdir(out)).sort()).toEqual(truth.map((r) => r.file.replace('images/', '').replace('.jpg', '.json')).sort())
    const upright = truth[0]
    if (upright === undefined) throw new Error('no upright image')
    const record: unknown = JSON.parse(await readFile(join(out, upright.file.replace('images/', '').replace('.jpg', '.json')), 'utf8'))
    expect(record).toMatchObject({
      width: 640, height: 640, policy: 'hflip', views: ['identity', 'HorizontalFlip(true)'], minScore: 0.3,
      head: { name: 'db', threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, multiple: 32 },
      fusion: { method: 'wbf', iouThreshold: 0.5, skipThreshold: 0, confidence: 'avg', allowsOverflow: false },
    })
    const decoded = Found.decode(record)
    if (E.isLeft(decoded)) throw new Error('no boxes and scores in the record')
    const found = decoded.right
    const boxList: readonly textdet.Box[] = found.boxes
    expect(boxList.length).toBeGreaterThan(1)
    expect(boxList.every(([x1, y1, x2, y2]) => x1 >= 0 && y1 >= 0 && x1 <= x2 && y1 <= y2 && x2 <= 640 && y2 <= 640)).toBe(true)
    expect(found.scores.every((s) => s >= 0.3 && s <= 1)).toBe(true)
    expect(textdet.scoreBoxes(boxList, upright.lines.map((l) => l.box)).f1).toBeGreaterThan(0.5)
    const before = (await stat(join(out, upright.file.replace('images/', '').replace('.jpg', '.json')))).mtimeMs
    const second = await tta('run', join(folder, 'images'), '-m', model, '-t', 'detection', ...ppocr, '--tta', 'hflip', '--fusion', 'wbf', '--iou-threshold', '0.5', '--min-score', '0.3', '-o', out)
    expect(second.stdout).toBe(`0 written, 2 already done (skipped), 0 failed → ${out}\n`)
    expect((await stat(join(out, upright.file.replace('images/', '').replace('.jpg', '.json')))).mtimeMs).toBe(before)
  }, 300_000)

  it('--workers 2 (threads) writes the bytes of the single-process run', async () => {
    const args = ['-m', model, '-t', 'detection', ...ppocr, '--tta', 'vflip', '--fusion', 'nms', '--min-score', '0.5']
    const single = await tta('run', join(folder, 'images'), ...args, '-o', join(folder, 'single'))
    expect([single.code, single.stdout]).toEqual([0, `2 written, 0 already done (skipped), 0 failed → ${join(folder, 'single')}\n`])
    const threads = await tta('run', join(folder, 'images'), ...args, '-o', join(folder, 'threads'), '--workers', '2', '--shard', '1')
    expect(threads.code).toBe(0)
    expect(threads.stdout).toContain('2 written')
    expect(await hashes(join(folder, 'threads'))).toEqual(await hashes(join(folder, 'single')))
  }, 400_000)

  it('with --size the model sees the resized image and the boxes come back in the file\'s pixels', async () => {
    const upright = truth[0]
    if (upright === undefined) throw new Error('no upright image')
    const out = join(folder, 'resized')
    const result = await tta('run', join(folder, upright.file), '-m', model, '-t', 'detection', ...ppocr, '--tta', 'none', '--size', '320x480', '-o', out)
    expect(result.code).toBe(0)
    const record: unknown = JSON.parse(await readFile(join(out, upright.file.replace('images/', '').replace('.jpg', '.json')), 'utf8'))
    expect(record).toMatchObject({ width: 640, height: 640, fusion: { method: 'wbf' } })
    const decoded = Found.decode(record)
    const boxList: readonly textdet.Box[] = E.isRight(decoded) ? decoded.right.boxes : []
    expect(E.isRight(decoded)).toBe(true)
    // a 480-wide input: without scaling back no box would reach past x = 480
    expect(boxList.some(([, , x2]) => x2 > 480) || boxList.length === 0).toBe(true)
    expect(boxList.every(([x1, y1, x2, y2]) => x1 >= 0 && y1 >= 0 && x2 <= 640 && y2 <= 640)).toBe(true)
  }, 200_000)
})

const redisSkip = skipReason()
describe.skipIf(redisSkip !== undefined)(`tta-lens run -t detection over a queue${redisSkip === undefined ? '' : ` — skipped: ${redisSkip}`}`, () => {
  it('--queue with two local worker processes writes the bytes of the single-process run', async () => {
    const args = ['-m', model, '-t', 'detection', ...ppocr, '--tta', 'hflip', '--fusion', 'wbf', '--confidence', 'max', '--min-score', '0.4']
    const single = await tta('run', join(folder, 'images'), ...args, '-o', join(folder, 'q-single'))
    expect(single.code).toBe(0)
    const redis = await startRedis()
    try {
      const queued = await tta('run', join(folder, 'images'), ...args, '-o', join(folder, 'q-queue'), '--queue', redis.url, '--workers', '2', '--shard', '1', '--lock-ms', '60000')
      expect(queued.code).toBe(0)
      expect(queued.stdout).toMatch(/2 completed, 0 retried, 0 failed, 0 pending/)
      expect(await hashes(join(folder, 'q-queue'))).toEqual(await hashes(join(folder, 'q-single')))
    } finally {
      await redis.stop()
    }
  }, 600_000)
})

describe('refusals before any work: one line, exit 2', () => {
  const refused = async (...args: string[]): Promise<string> => {
    const result = await tta(...args)
    expect(result.code).toBe(2)
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    return lines[0] ?? ''
  }
  it('a model no head decodes, a policy file, weights that do not match the views, bad fusion flags', async () => {
    const out = join(folder, 'never')
    expect(await refused('run', join(folder, 'images'), '-m', classifier, '-t', 'detection', '--tta', 'hflip', '-o', out))
      .toMatch(/needs a head that turns this model's output \[.*\] into boxes; tta-lens has --head db/)
    expect(await refused('run', join(folder, 'images'), '-m', model, '-t', 'detection', '--policy', 'p.json', '-o', out))
      .toBe('tta-lens: a policy file (--policy) is for classification or segmentation; -t detection takes --tta or --config')
    expect(await refused('run', join(folder, 'images'), '-m', model, '-t', 'detection', '--tta', 'hflip', '--weights', '1,2,3', '-o', out))
      .toContain('--weights has 3 entries for the 2 views of hflip')
    expect(await refused('run', join(folder, 'images'), '-m', model, '-t', 'detection', '--tta', 'hflip', '--fusion', 'wbf', '--iou-threshold', '2', '-o', out))
      .toContain('--iou-threshold')
    expect(await refused('run', join(folder, 'images'), '-m', model, '-t', 'detection', '--tta', 'hflip', '--min-score', 'high', '-o', out))
      .toContain('--min-score')
    await expect(stat(out)).rejects.toThrow()
  }, 300_000)
  it('eval -t detection: no truth file, --idx, --workers', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'tta-lens-det-empty-'))
    expect(await refused('eval', '-m', model, '-t', 'detection', '--folder', empty)).toContain(`cannot read the truth file ${join(empty, 'truth.json')}`)
    expect(await refused('eval', '-m', model, '-t', 'detection', '--idx', 'a', 'b')).toContain('eval -t detection takes --folder with a truth file')
    expect(await refused('eval', '-m', model, '-t', 'detection', '--folder', folder, '--workers', '2')).toContain('eval -t detection runs in one process')
  }, 300_000)
})

describe('tta-lens eval -t detection', () => {
  it('scores each policy against the truth file and compares it with none', async () => {
    const result = await tta('eval', '-m', model, '-t', 'detection', ...ppocr, '--folder', folder, '--policies', 'none;hflip', '--fusion', 'nms', '--min-score', '0.6')
    expect(result.code).toBe(0)
    const lines = result.stdout.split('\n')
    const lineCount = truth.reduce((n, r) => n + r.lines.length, 0)
    expect(lines[0]).toBe(`2 images, ${lineCount} truth boxes · boxes matched at IoU ≥ 0.5, class by class · fusion nms, min score 0.6 · head db`)
    expect(lines[2]).toMatch(/^none {24} {5}1 +\d+\.\d +\d+\.\d +\d+\.\d +— +— {2}— +— +\d+$/)
    expect(lines[3]).toMatch(/^hflip {23} {5}2 +\d+\.\d +\d+\.\d +\d+\.\d +\d +\d {2}p = [\d.]+ +[+-]?\d+\.\d \[-?\d+\.\d, -?\d+\.\d\] +\d+$/)
  }, 300_000)
})

describe('tta-lens explain and bench -t detection', () => {
  it('explain shows the fusion and the minimum score, dry-run against the model', async () => {
    const result = await tta('explain', '-m', model, '-t', 'detection', '--tta', 'd4', '--shape', '1x3x64x96', '--fusion', 'nms', '--min-score', '0.5')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('fusion nms · min score 0.5')
    expect(result.stdout).toMatch(/dry run against the model's metadata \[.*\]: ok/)
  }, 100_000)
  it('bench times the single pass (the head once) against TTA', async () => {
    const result = await tta('bench', '-m', model, '-t', 'detection', '--tta', 'hflip', '--shape', '1x3x64x64', '--runs', '1')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^single pass: [\d.]+ ms · TTA \(2 views, 1 calls\): [\d.]+ ms · [\d.]+×/)
  }, 100_000)
})
