/**
 * Box fusion: 8 views × 300 boxes × 5 classes (normalised boxes, a fixed pseudo-random scene) fused
 * by each method, interleaved. When `FUSION_BENCH_REFERENCE` names a checkout of
 * ZFTurbo/Weighted-Boxes-Fusion, the same input is also timed with ensemble-boxes itself
 * (bench/lib/ensemble_boxes_time.py under Debian's /usr/bin/python3 with python3-numpy and
 * python3-numba), its calls interleaved with ours round by round; without it that column says so.
 * Nothing of ensemble-boxes ships with tta-lens.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import * as E from 'fp-ts/lib/Either.js'
import { boxes } from '../../src/index.js'
import { progress } from '../lib/progress.js'
import { quietGate } from '../lib/quiet.js'
import { commandLine, gateLine, ms, ratio, table, type SectionResult } from '../lib/report.js'
import { median } from '../lib/stats.js'
import { mulberry32 } from '../../src/eval/random.js'

const VIEWS = 8
const BOXES = 300
const CLASSES = 5
const OBJECTS = 240
const TARGET_MS = 5


/**
 * 240 objects of 5 classes; each view sees each object with probability 0.9 as a copy shifted by up
 * to 1% of the frame per corner, then clutter boxes up to 300 boxes.
 */
export const fusionScene = (seed = 20240607): readonly boxes.Detections[] => {
  const r = mulberry32(seed)
  const box = (maxSide: number): boxes.Box => {
    const w = 0.01 + r() * maxSide, h = 0.01 + r() * maxSide
    const x = r() * (1 - w), y = r() * (1 - h)
    return [x, y, x + w, y + h]
  }
  const objects = Array.from({ length: OBJECTS }, () => ({ b: box(0.15), l: Math.floor(r() * CLASSES) }))
  return Array.from({ length: VIEWS }, (): boxes.Detections => {
    const list: { b: boxes.Box; s: number; l: number }[] = []
    for (const o of objects) {
      if (r() >= 0.9) continue
      const j = (): number => (r() - 0.5) * 0.02
      const [x1, y1, x2, y2] = o.b.map((v) => Math.min(1, Math.max(0, v + j())))
      list.push({ b: [Math.min(x1 ?? 0, x2 ?? 0), Math.min(y1 ?? 0, y2 ?? 0), Math.max(x1 ?? 0, x2 ?? 0), Math.max(y1 ?? 0, y2 ?? 0)], s: 0.3 + 0.7 * r(), l: o.l })
    }
    while (list.length < BOXES) list.push({ b: box(0.1), s: 0.5 * r(), l: Math.floor(r() * CLASSES) })
    return { boxes: list.map((x) => x.b), scores: list.map((x) => x.s), labels: list.map((x) => x.l) }
  })
}

interface Method {
  readonly name: string
  readonly options: boxes.FusionOptions
  /** The same call in ensemble-boxes (function, keyword arguments). */
  readonly reference: readonly [string, Readonly<Record<string, unknown>>]
}

const methods: readonly Method[] = [
  { name: 'nms', options: { method: 'nms' }, reference: ['nms', { iou_thr: 0.5 }] },
  { name: 'soft-nms linear', options: { method: 'soft-nms', kernel: 'linear' }, reference: ['soft_nms', { method: 1, iou_thr: 0.5, sigma: 0.5, thresh: 0.001 }] },
  { name: 'soft-nms gaussian', options: { method: 'soft-nms' }, reference: ['soft_nms', { method: 2, iou_thr: 0.5, sigma: 0.5, thresh: 0.001 }] },
  { name: 'nmw', options: { method: 'nmw' }, reference: ['nmw', { iou_thr: 0.55, skip_box_thr: 0 }] },
  { name: 'wbf avg', options: { method: 'wbf' }, reference: ['wbf', { iou_thr: 0.55, skip_box_thr: 0, conf_type: 'avg' }] },
  { name: 'wbf box_and_model_avg', options: { method: 'wbf', confidence: 'box_and_model_avg' }, reference: ['wbf', { iou_thr: 0.55, skip_box_thr: 0, conf_type: 'box_and_model_avg' }] },
]

/** ensemble-boxes in a child process, one timed call per request (bench/lib/ensemble_boxes_time.py). */
interface Reference {
  readonly call: (name: string) => Promise<Sample>
  readonly boxes: ReadonlyMap<string, number>
  readonly versions: string
  readonly close: () => void
}

const startReference = async (views: readonly boxes.Detections[]): Promise<Reference | string> => {
  const checkout = process.env['FUSION_BENCH_REFERENCE']
  if (checkout === undefined || checkout === '') return 'not measured: set FUSION_BENCH_REFERENCE to a checkout of ZFTurbo/Weighted-Boxes-Fusion'
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tta-lens-fusion-'))
  const input = path.join(dir, 'input.json')
  writeFileSync(input, JSON.stringify({ views, calls: methods.map((m) => ({ name: m.name, function: m.reference[0], params: m.reference[1] })) }))
  const script = new URL('../lib/ensemble_boxes_time.py', import.meta.url).pathname
  const child = spawn('/usr/bin/python3', [script, checkout, input], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => {
    const r = await lines.next()
    if (r.done === true) throw new Error('ensemble-boxes stopped')
    return String(r.value)
  }
  const close = (): void => {
    child.stdin.end('\n')
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const first: unknown = JSON.parse(await next())
    const counts = new Map<string, number>()
    let versions = ''
    if (typeof first === 'object' && first !== null && 'boxes' in first && typeof first.boxes === 'object' && first.boxes !== null) {
      for (const [k, v] of Object.entries(first.boxes)) if (typeof v === 'number') counts.set(k, v)
      versions = 'versions' in first ? JSON.stringify(first.versions) : ''
    }
    return {
      boxes: counts, versions: `ensemble-boxes from ${checkout}, ${versions}, /usr/bin/python3`, close,
      call: async (name) => {
        child.stdin.write(`${name}\n`)
        const answer: unknown = JSON.parse(await next())
        return Array.isArray(answer) && typeof answer[0] === 'number' && typeof answer[1] === 'number' ? { wall: answer[0], cpu: answer[1] } : { wall: Number.NaN, cpu: Number.NaN }
      },
    }
  } catch (e) {
    close()
    child.kill()
    return `not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`
  }
}

/** One sample: wall-clock and CPU milliseconds (CPU time is what a busy machine distorts least). */
interface Sample {
  readonly wall: number
  readonly cpu: number
}
interface Summary {
  readonly name: string
  readonly median: number
  readonly min: number
  readonly cpuMedian: number
}
const summarise = (name: string, samples: readonly Sample[]): Summary => {
  const wall = samples.map((x) => x.wall)
  return { name, median: median(wall), min: Math.min(...wall), cpuMedian: median(samples.map((x) => x.cpu)) }
}
const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

export const fusionSection = async (quick: boolean): Promise<SectionResult> => {
  const views = fusionScene()
  const counts = new Map<string, number>()
  const ours = methods.map((m) => async (): Promise<Sample> => {
    const reps = 10
    const c0 = cpuMs()
    const t0 = performance.now()
    for (let k = 0; k < reps; k++) {
      const r = boxes.fuse(views, m.options)
      if (E.isLeft(r)) throw new Error(`${m.name}: ${r.left.message}`)
      counts.set(m.name, r.right.boxes.length)
    }
    return { wall: (performance.now() - t0) / reps, cpu: (cpuMs() - c0) / reps }
  })
  const reference = await startReference(views)
  const theirs = typeof reference === 'string' ? [] : methods.map((m) => () => reference.call(m.name))
  // One round: each of our methods (10 calls) and each ensemble-boxes call, in a rotated order.
  const all = [...ours, ...theirs]
  const samples: Sample[][] = all.map(() => [])
  const gate = quietGate(quick ? 0 : 2000)
  const rounds = quick ? 3 : 20
  for (let r = -2; r < rounds; r++) {
    if (r >= 0) await gate.wait()
    for (let k = 0; k < all.length; k++) {
      const index = (Math.max(r, 0) + k) % all.length
      const sample = await all[index]?.()
      if (r >= 0 && sample !== undefined) samples[index]?.push(sample)
    }
    if (r >= 0) progress('fusion')(r + 1, rounds)
  }
  if (typeof reference !== 'string') reference.close()
  const timings = methods.map((m, i) => summarise(m.name, samples[i] ?? []))
  const refTimings = typeof reference === 'string' ? [] : methods.map((m, i) => summarise(m.name, samples[methods.length + i] ?? []))
  const rows = methods.map((m, i) => {
    const t = timings[i]
    const ref = refTimings[i]
    return [
      m.name, String(counts.get(m.name) ?? '?'), t === undefined ? '' : ms(t.median), t === undefined ? '' : ms(t.min), t === undefined ? '' : ms(t.cpuMedian),
      ref === undefined || typeof reference === 'string' ? '—' : `${ms(ref.median)} (${reference.boxes.get(m.name) ?? '?'} boxes)`,
      ref === undefined ? '—' : ms(ref.cpuMedian),
      ref === undefined || t === undefined ? '—' : ratio(ref.median / t.median),
      ref === undefined || t === undefined ? '—' : ratio(ref.min / t.min),
      ref === undefined || t === undefined ? '—' : ratio(ref.cpuMedian / t.cpuMedian),
    ]
  })
  const slowest = timings.reduce((a, t) => (t.median > a.median ? t : a))
  const slowestMin = timings.reduce((a, t) => (t.min > a.min ? t : a))
  const refRatios = refTimings.flatMap((ref, i) => {
    const t = timings[i]
    return t === undefined ? [] : [ref.median / t.median]
  })
  const cpuRatios = refTimings.flatMap((ref, i) => {
    const t = timings[i]
    return t === undefined ? [] : [ref.cpuMedian / t.cpuMedian]
  })
  const slowestCpu = timings.reduce((a, t) => (t.cpuMedian > a.cpuMedian ? t : a))
  const markdown = [
    `\`boxes.fuse\` on ${VIEWS} views × ${BOXES} boxes × ${CLASSES} classes (normalised; ${OBJECTS} objects, each seen by a view with probability 0.9 as a copy shifted by up to 1% per corner, the rest of each view clutter; a fixed seed), every method with its defaults (= ensemble-boxes' defaults; soft-NMS linear with iou 0.5). A sample of ours is the mean of 10 calls (checks of the input included); ${rounds} rounds after 2 warm-up rounds, each running every variant once in a rotated order${typeof reference === 'string' ? '' : ', ensemble-boxes\' calls (one per sample, timed inside Python) interleaved with ours'}.`,
    '',
    commandLine('fusion'),
    'With ensemble-boxes for comparison: `FUSION_BENCH_REFERENCE=/path/to/Weighted-Boxes-Fusion npm run bench -- fusion` (Debian\'s /usr/bin/python3 with python3-numpy and python3-numba; nothing of ensemble-boxes ships with tta-lens).',
    '',
    table(['method', 'boxes out', 'median ms', 'min ms', 'CPU median ms', 'ensemble-boxes median ms', 'its CPU median ms', 'ensemble-boxes ÷ ours: medians', 'minimums', 'CPU medians'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']),
    '',
    'CPU ms: the process\'s user + system CPU time per call (`process.cpuUsage`; Python\'s `time.process_time`), which other processes on a busy machine inflate less than wall-clock time.',
    '',
    `ensemble-boxes: ${typeof reference === 'string' ? reference : reference.versions}.`,
    '',
    gateLine(gate, 'rounds'),
  ].join('\n')
  return {
    markdown,
    targets: [{
      id: '(f)', target: `fusion of ${VIEWS} views × ${BOXES} boxes × ${CLASSES} classes < ${TARGET_MS} ms, every method`,
      measured: `slowest by median: ${slowest.name} ${ms(slowest.median)} ms; by minimum: ${slowestMin.name} ${ms(slowestMin.min)} ms; by CPU median: ${slowestCpu.name} ${ms(slowestCpu.cpuMedian)} ms`,
      met: slowest.median < TARGET_MS,
    }],
    analysis: [
      `**Fusion (f).** The slowest method, ${slowest.name}, takes ${ms(slowest.median)} ms (median; ${ms(slowest.min)} ms at best) for ${VIEWS * BOXES} boxes${refRatios.length === 0 ? '' : `; ensemble-boxes, interleaved on the same input, takes ${ratio(Math.min(...refRatios))}–${ratio(Math.max(...refRatios))} our median time (${ratio(Math.min(...cpuRatios))}–${ratio(Math.max(...cpuRatios))} by CPU time)`}. Soft-NMS is the dearest: every box takes its turn and decays its neighbours (about 2,000 of the 2,400 boxes survive the 0.001 cut-off), while NMS stops at the boxes it keeps.`,
    ],
  }
}
