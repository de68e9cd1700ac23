/**
 * Box fusion: 8 views × 300 boxes × 5 classes (normalised boxes, a fixed pseudo-random scene) fused
 * by each method, interleaved. When `FUSION_BENCH_REFERENCE` names a checkout of
 * ZFTurbo/Weighted-Boxes-Fusion, the same input is also timed with ensemble-boxes itself
 * (bench/lib/ensemble_boxes_time.py under Debian's /usr/bin/python3 with python3-numpy and
 * python3-numba); without it that column says so. Nothing of ensemble-boxes ships with tta-lens.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { boxes } from '../../src/index.js'
import { progress } from '../lib/progress.js'
import { quietGate } from '../lib/quiet.js'
import { commandLine, gateLine, ms, ratio, table, type SectionResult } from '../lib/report.js'
import { byName, interleave, type Timing, type Variant } from '../lib/stats.js'

const VIEWS = 8
const BOXES = 300
const CLASSES = 5
const OBJECTS = 240
const TARGET_MS = 5

/** A small deterministic generator (mulberry32), so every run and ensemble-boxes see the same scene. */
const random = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * 240 objects of 5 classes; each view sees each object with probability 0.9 as a copy shifted by up
 * to 1% of the frame per corner, then clutter boxes up to 300 boxes.
 */
export const fusionScene = (seed = 20240607): readonly boxes.Detections[] => {
  const r = random(seed)
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

interface ReferenceTiming {
  readonly median: number
  readonly min: number
  readonly boxes: number
}

/** Times ensemble-boxes on the same input, or says why it did not. */
const timeReference = (views: readonly boxes.Detections[], rounds: number): { readonly timings: ReadonlyMap<string, ReferenceTiming>; readonly note: string } => {
  const checkout = process.env['FUSION_BENCH_REFERENCE']
  if (checkout === undefined || checkout === '') return { timings: new Map(), note: 'not measured: set FUSION_BENCH_REFERENCE to a checkout of ZFTurbo/Weighted-Boxes-Fusion' }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tta-lens-fusion-'))
  try {
    const input = path.join(dir, 'input.json')
    writeFileSync(input, JSON.stringify({ views, rounds, calls: methods.map((m) => ({ name: m.name, function: m.reference[0], params: m.reference[1] })) }))
    const script = new URL('../lib/ensemble_boxes_time.py', import.meta.url).pathname
    const out = execFileSync('/usr/bin/python3', [script, checkout, input], { encoding: 'utf8', maxBuffer: 1 << 24 })
    const parsed: unknown = JSON.parse(out)
    const timings = new Map<string, ReferenceTiming>()
    if (typeof parsed === 'object' && parsed !== null && 'results' in parsed && Array.isArray(parsed.results)) {
      for (const r of parsed.results) {
        if (typeof r === 'object' && r !== null && 'name' in r && 'median' in r && 'min' in r && 'boxes' in r &&
          typeof r.name === 'string' && typeof r.median === 'number' && typeof r.min === 'number' && typeof r.boxes === 'number') {
          timings.set(r.name, { median: r.median, min: r.min, boxes: r.boxes })
        }
      }
    }
    const version = typeof parsed === 'object' && parsed !== null && 'versions' in parsed ? JSON.stringify(parsed.versions) : ''
    return { timings, note: `ensemble-boxes from ${checkout}, ${version}, /usr/bin/python3; ${rounds} timed calls per method after 3 warm-up calls (numba compiles on the first)` }
  } catch (e) {
    return { timings: new Map(), note: `not measured: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const fusionSection = async (quick: boolean): Promise<SectionResult> => {
  const views = fusionScene()
  const counts = new Map<string, number>()
  const variants = methods.map((m): Variant => ({
    name: m.name, reps: 10,
    run: () => {
      const r = boxes.fuse(views, m.options)
      if (E.isLeft(r)) throw new Error(`${m.name}: ${r.left.message}`)
      counts.set(m.name, r.right.boxes.length)
    },
  }))
  const gate = quietGate(quick ? 0 : 2000)
  const timings: readonly Timing[] = await interleave(variants, { rounds: quick ? 3 : 25, warmup: 3, onRound: progress('fusion'), gate: { gate, per: 'round' } })
  const reference = timeReference(views, quick ? 3 : 25)
  const rows = methods.map((m) => {
    const t = byName(timings, m.name)
    const ref = reference.timings.get(m.name)
    return [
      m.name, String(counts.get(m.name) ?? '?'), ms(t.median), ms(t.min),
      ref === undefined ? '—' : `${ms(ref.median)} (${ref.boxes} boxes)`,
      ref === undefined ? '—' : ratio(ref.median / t.median),
    ]
  })
  const slowest = timings.reduce((a, t) => (t.median > a.median ? t : a))
  const refRatios = methods.flatMap((m) => {
    const ref = reference.timings.get(m.name)
    return ref === undefined ? [] : [ref.median / byName(timings, m.name).median]
  })
  const markdown = [
    `\`boxes.fuse\` on ${VIEWS} views × ${BOXES} boxes × ${CLASSES} classes (normalised; ${OBJECTS} objects, each seen by a view with probability 0.9 as a copy shifted by up to 1% per corner, the rest of each view clutter; a fixed seed), every method with its defaults (= ensemble-boxes' defaults; soft-NMS linear with iou 0.5). Each sample is the mean of 10 calls; the methods are interleaved.`,
    '',
    commandLine('fusion'),
    `With ensemble-boxes for comparison: \`FUSION_BENCH_REFERENCE=/path/to/Weighted-Boxes-Fusion npm run bench -- fusion\`.`,
    '',
    table(['method', 'boxes out', 'median ms', 'min ms', 'ensemble-boxes median ms', 'ensemble-boxes ÷ ours'], rows, ['l', 'r', 'r', 'r', 'r', 'r']),
    '',
    `ensemble-boxes: ${reference.note}. Its timings come from a separate process after ours, so the ratio is not interleaved.`,
    '',
    gateLine(gate, 'rounds'),
  ].join('\n')
  return {
    markdown,
    targets: [{
      id: '(f)', target: `fusion of ${VIEWS} views × ${BOXES} boxes × ${CLASSES} classes < ${TARGET_MS} ms, every method`,
      measured: `slowest: ${slowest.name} ${ms(slowest.median)} ms (median)`,
      met: slowest.median < TARGET_MS,
    }],
    analysis: [
      `**Fusion (f).** The slowest method, ${slowest.name}, takes ${ms(slowest.median)} ms for ${VIEWS * BOXES} boxes${refRatios.length === 0 ? '' : `; ensemble-boxes takes ${ratio(Math.min(...refRatios))}–${ratio(Math.max(...refRatios))} our time on the same input`}.`,
    ],
  }
}
