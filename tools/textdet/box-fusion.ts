/**
 * Text detection with TTA, map merges against box fusion, from the per-view detections that
 * tools/textdet/collect-views.ts stored (no model runs here):
 *
 * 1. All 80 images, every policy of tools/textdet/policies.ts × every merge — the map merges (mean,
 *    gmean, max of the views' probability maps, then DB) and the box fusions (NMS, soft-NMS, NMW,
 *    WBF with ensemble-boxes' defaults, every fused box kept) — with P/R/F1 at IoU ≥ 0.5, images
 *    better/worse than no TTA and than the control (the best single view: 1.5× alone, map path)
 *    with exact sign tests, and a paired bootstrap of the F1 difference to the control.
 * 2. Tuned honestly: each fusion's thresholds (IoU, confidence rule or kernel, and the minimum fused
 *    score) chosen per policy on the **selection** half of assets/textdet/split.json by F1, then
 *    measured on the **evaluation** half against the control there; and the one (policy, fusion)
 *    with the best selection F1 among the TTA policies, which `npm run demo` runs.
 *
 *   npx tsx tools/textdet/box-fusion.ts [--views .cache/textdet-views.json] [--timing .cache/textdet-timing.json] [--json out.json]
 *
 * `--timing` adds ms/image from tools/textdet/time-policies.ts (the wrappers themselves, timed).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { boxes, compareDetections, decodeNameSplit, orThrow, scoreDetections, showP, type DetectionComparison, type DetectionSetScore } from '../../src/index.js'
import type { Detections, FusionOptions } from '../../src/boxes/index.js'
import { readTruth, type Box, type TruthImage } from '../../src/textdet/node.js'
import { views as viewsOf } from '../../src/index.js'
import { mapMerges, textPolicies, viewKey, type MapMerge, type TextPolicy } from './policies.js'

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

const BoxCodec = t.tuple([t.number, t.number, t.number, t.number])
const CacheCodec = t.type({
  images: t.array(t.type({
    file: t.string,
    views: t.record(t.string, t.type({ boxes: t.array(BoxCodec), scores: t.array(t.number), labels: t.array(t.number) })),
    maps: t.record(t.string, t.type({ mean: t.array(BoxCodec), gmean: t.array(BoxCodec), max: t.array(BoxCodec) })),
  })),
})

/** A merge: a map merge, or a box fusion with its minimum fused score. */
export type Merge =
  | { readonly kind: 'map'; readonly mode: MapMerge }
  | { readonly kind: 'box'; readonly fusion: FusionOptions; readonly minScore: number }

export const mergeLabel = (m: Merge): string => {
  if (m.kind === 'map') return `map ${m.mode}`
  const { method, ...rest } = m.fusion
  const opts = Object.entries(rest).map(([k, v]) => `${k} ${String(v)}`)
  if (m.minScore > 0) opts.push(`min score ${m.minScore}`)
  return `box ${method.toUpperCase()}${opts.length === 0 ? '' : ` (${opts.join(', ')})`}`
}

/** ensemble-boxes' defaults, every fused box kept: the untuned rows. */
const defaultFusions: readonly Merge[] = [
  { kind: 'box', fusion: { method: 'nms' }, minScore: 0 },
  { kind: 'box', fusion: { method: 'soft-nms' }, minScore: 0 },
  { kind: 'box', fusion: { method: 'nmw' }, minScore: 0 },
  { kind: 'box', fusion: { method: 'wbf' }, minScore: 0 },
]

const minScores = Array.from({ length: 20 }, (_, k) => Math.round(k * 5) / 100)
const ious = [0.3, 0.4, 0.5, 0.55, 0.6, 0.7]
/** The grid each fusion is tuned over on the selection half. */
const grids: Readonly<Record<FusionOptions['method'], readonly FusionOptions[]>> = {
  nms: ious.map((iouThreshold) => ({ method: 'nms', iouThreshold })),
  'soft-nms': [
    ...[0.3, 0.5, 0.7].map((iouThreshold): FusionOptions => ({ method: 'soft-nms', kernel: 'linear', iouThreshold })),
    ...[0.1, 0.3, 0.5].map((sigma): FusionOptions => ({ method: 'soft-nms', kernel: 'gaussian', sigma })),
  ],
  nmw: ious.map((iouThreshold) => ({ method: 'nmw', iouThreshold })),
  wbf: ious.flatMap((iouThreshold) => boxes.confidenceRules.map((confidence): FusionOptions => ({ method: 'wbf', iouThreshold, confidence }))),
}


const main = async (): Promise<void> => {
  const viewsPath = arg('views') ?? '.cache/textdet-views.json'
  const cache = CacheCodec.decode(JSON.parse(readFileSync(viewsPath, 'utf8')))
  if (E.isLeft(cache)) throw new Error(`${viewsPath} is not the output of tools/textdet/collect-views.ts`)
  const truthE = await readTruth()()
  if (E.isLeft(truthE)) throw new Error(truthE.left.message)
  const truthOf = new Map(truthE.right.map((r) => [r.file, r]))
  const split = orThrow(decodeNameSplit(JSON.parse(readFileSync(new URL('../../assets/textdet/split.json', import.meta.url), 'utf8'))))
  const images = cache.right.images
  const records: TruthImage[] = images.map((im) => {
    const r = truthOf.get(im.file)
    if (r === undefined) throw new Error(`${im.file} is not in truth.json`)
    return r
  })
  const timingPath = arg('timing')
  const timing: unknown = timingPath === undefined ? undefined : JSON.parse(readFileSync(timingPath, 'utf8'))
  const msOf = (policy: string, merge: string): string => {
    if (typeof timing !== 'object' || timing === null || !('ms' in timing) || typeof timing.ms !== 'object' || timing.ms === null) return '—'
    const entry = Object.entries(timing.ms).find(([k]) => k === `${policy}|${merge}`)?.[1]
    return typeof entry === 'number' ? entry.toFixed(0) : '—'
  }

  // Each policy's view keys for an image (its product depends on the image's size).
  const keyMemo = new Map<string, readonly string[]>()
  const viewKeys = (policy: TextPolicy, r: TruthImage): readonly string[] => {
    const id = `${policy.name}@${r.height}x${r.width}`
    const hit = keyMemo.get(id)
    if (hit !== undefined) return hit
    const keys = viewsOf(orThrow(policy.product(r.height, r.width))).map(viewKey)
    keyMemo.set(id, keys)
    return keys
  }
  const [firstRecord] = records
  if (firstRecord === undefined) throw new Error(`${viewsPath} holds no images`)
  const viewsIn = (policy: TextPolicy): number => viewKeys(policy, firstRecord).length
  const predictions = (policy: TextPolicy, merge: Merge, indices: readonly number[]): readonly (readonly Box[])[] => indices.map((i) => {
    const im = images[i]
    const r = records[i]
    if (im === undefined || r === undefined) throw new Error(`no image ${i}`)
    if (merge.kind === 'map') {
      const maps = im.maps[policy.name]
      if (maps === undefined) throw new Error(`${im.file}: no maps for ${policy.name}`)
      return maps[merge.mode]
    }
    const per: Detections[] = viewKeys(policy, r).map((k) => {
      const v = im.views[k]
      if (v === undefined) throw new Error(`${im.file}: view ${k} was not collected`)
      return v
    })
    return orThrow(boxes.fuseInFrame(per, { height: r.height, width: r.width }, { fusion: merge.fusion, minScore: merge.minScore })).boxes
  })
  const truthBoxes = (indices: readonly number[]): readonly (readonly Box[])[] => indices.map((i) => (records[i]?.lines ?? []).map((l) => l.box))
  const score = (policy: TextPolicy, merge: Merge, indices: readonly number[]): DetectionSetScore =>
    orThrow(scoreDetections(predictions(policy, merge, indices), truthBoxes(indices), 0.5))
  const compare = (a: DetectionSetScore, b: DetectionSetScore): DetectionComparison => orThrow(compareDetections(a, b, { resamples: 10_000, seed: 7 }))

  const all = images.map((_, i) => i)
  // A cache of part of the set (--limit while trying the tools) scores the part of each half it holds.
  const half = (names: readonly string[]): readonly number[] => names.flatMap((n) => {
    const i = images.findIndex((im) => im.file === n)
    return i < 0 ? [] : [i]
  })
  const selection = half(split.selection)
  const evaluation = half(split.evaluation)
  const policyNamed = (name: string): TextPolicy => {
    const p = textPolicies.find((x) => x.name === name)
    if (p === undefined) throw new Error(`no policy ${name}`)
    return p
  }
  const control = { policy: policyNamed('1.5×'), merge: { kind: 'map', mode: 'mean' } as const satisfies Merge }
  const none = { policy: policyNamed('none'), merge: { kind: 'map', mode: 'mean' } as const satisfies Merge }

  const pct = (v: number): string => (100 * v).toFixed(1)
  const signed = (v: number): string => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)}`
  const interval = (c: DetectionComparison): string => `[${signed(c.interval[0])}, ${signed(c.interval[1])}]`
  const out: string[] = []
  const json: Record<string, unknown> = { views: viewsPath, images: images.length, selection: selection.length, evaluation: evaluation.length }

  // ── 1. all images, untuned ──────────────────────────────────────────────────────────────────
  const baseAll = score(none.policy, none.merge, all)
  const controlAll = score(control.policy, control.merge, all)
  const rows1: Record<string, unknown>[] = []
  out.push(`### All ${all.length} images: every policy × every merge, untuned`, '')
  out.push('| policy | merge | views | P | R | F1 | vs none: better / worse | sign test | ΔF1 vs 1.5× alone | vs 1.5×: better / worse | sign test | bootstrap 95% CI of ΔF1 | ms / image |')
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- | ---: |')
  for (const policy of textPolicies) {
    const single = viewsIn(policy) === 1
    const merges: readonly Merge[] = [...(single ? [{ kind: 'map', mode: 'mean' } as const] : mapMerges.map((mode) => ({ kind: 'map', mode } as const))), ...defaultFusions]
    for (const merge of merges) {
      const s = score(policy, merge, all)
      const vsNone = compare(s, baseAll)
      const vsControl = compare(s, controlAll)
      const isNone = policy.name === 'none' && merge.kind === 'map'
      const isControl = policy.name === control.policy.name && merge.kind === 'map'
      const label = single && merge.kind === 'map' ? 'map (one view)' : mergeLabel(merge)
      const name = `${policy.name}${policy.extra ? ' ⁺' : ''}`
      out.push(`| ${isControl ? `**${name}** (control)` : name} | ${label} | ${viewsIn(policy)} | ${pct(s.total.precision)} | ${pct(s.total.recall)} | ${isControl || isNone ? `**${pct(s.total.f1)}**` : pct(s.total.f1)} | ` +
        `${isNone ? '—' : `${vsNone.better} / ${vsNone.worse}`} | ${isNone ? '—' : showP(vsNone.signP)} | ` +
        `${isControl ? '—' : signed(vsControl.deltaF1)} | ${isControl ? '—' : `${vsControl.better} / ${vsControl.worse}`} | ${isControl ? '—' : showP(vsControl.signP)} | ${isControl ? '—' : interval(vsControl)} | ${msOf(policy.name, merge.kind === 'map' ? `map ${merge.mode}` : merge.fusion.method)} |`)
      rows1.push({ policy: policy.name, merge: label, views: viewsIn(policy), ...s.total, vsNone, vsControl })
    }
  }
  json['all'] = rows1

  // ── 2. tuned on selection, measured on evaluation ───────────────────────────────────────────
  const controlEval = score(control.policy, control.merge, evaluation)
  const noneEval = score(none.policy, none.merge, evaluation)
  interface Tuned { readonly policy: TextPolicy; readonly merge: Merge; readonly selF1: number }
  const tuned: Tuned[] = []
  for (const policy of textPolicies) {
    // map merges: the better of mean / gmean / max on selection
    const mapChoices = (viewsIn(policy) === 1 ? ['mean' as const] : mapMerges).map((mode): Tuned => {
      const merge: Merge = { kind: 'map', mode }
      return { policy, merge, selF1: score(policy, merge, selection).total.f1 }
    })
    tuned.push(bestOf(mapChoices))
    for (const method of boxes.fusionMethods) {
      const candidates: Tuned[] = []
      for (const fusion of grids[method]) {
        // One fusion per setting; the minimum scores only filter its output.
        const fusedSel = selection.map((i) => {
          const r = records[i]
          const im = images[i]
          if (r === undefined || im === undefined) throw new Error(`no image ${i}`)
          const per = viewKeys(policy, r).map((k) => im.views[k] ?? boxes.empty)
          return orThrow(boxes.fuseInFrame(per, { height: r.height, width: r.width }, { fusion }))
        })
        for (const minScore of minScores) {
          const pred = fusedSel.map((d) => boxes.keepScoring(d, minScore).boxes)
          const s = orThrow(scoreDetections(pred, truthBoxes(selection), 0.5))
          candidates.push({ policy, merge: { kind: 'box', fusion, minScore }, selF1: s.total.f1 })
        }
      }
      tuned.push(bestOf(candidates))
    }
  }
  out.push('', `### Tuned on the selection half (${selection.length} images), measured on the evaluation half (${evaluation.length} images)`, '')
  out.push(`Control on the evaluation half: 1.5× alone (map path), F1 ${pct(controlEval.total.f1)}; none: F1 ${pct(noneEval.total.f1)}.`, '')
  out.push('| policy | merge (settings chosen on selection) | views | F1 selection | P | R | F1 evaluation | ΔF1 vs 1.5× alone | better / worse | sign test | bootstrap 95% CI | bootstrap p |')
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |')
  const rows2: Record<string, unknown>[] = []
  for (const t of tuned) {
    const s = score(t.policy, t.merge, evaluation)
    const c = compare(s, controlEval)
    const isControl = t.policy.name === control.policy.name && t.merge.kind === 'map'
    out.push(`| ${t.policy.name}${t.policy.extra ? ' ⁺' : ''} | ${mergeLabel(t.merge)} | ${viewsIn(t.policy)} | ${pct(t.selF1)} | ${pct(s.total.precision)} | ${pct(s.total.recall)} | ${pct(s.total.f1)} | ` +
      `${isControl ? '—' : signed(c.deltaF1)} | ${isControl ? '—' : `${c.better} / ${c.worse}`} | ${isControl ? '—' : showP(c.signP)} | ${isControl ? '—' : interval(c)} | ${isControl ? '—' : showP(c.bootstrapP)} |`)
    rows2.push({ policy: t.policy.name, merge: t.merge, views: viewsIn(t.policy), selectionF1: t.selF1, ...s.total, vsControl: c })
  }
  json['tuned'] = rows2

  // The demo's policy: the best selection F1 among the TTA policies (2 views or more).
  const best = bestOf(tuned.filter((x) => viewsIn(x.policy) > 1))
  const bestEval = score(best.policy, best.merge, evaluation)
  const bestVs = compare(bestEval, controlEval)
  const bestSingle = bestOf(tuned.filter((x) => viewsIn(x.policy) === 1))
  const singleEval = score(bestSingle.policy, bestSingle.merge, evaluation)
  const bestVsSingle = compare(bestEval, singleEval)
  out.push('', `Best TTA policy on the selection half: **${best.policy.name}, ${mergeLabel(best.merge)}** (selection F1 ${pct(best.selF1)}). ` +
    `On the evaluation half: F1 ${pct(bestEval.total.f1)} against ${pct(controlEval.total.f1)} for 1.5× alone (ΔF1 ${signed(bestVs.deltaF1)}, ${bestVs.better} better / ${bestVs.worse} worse, sign test ${showP(bestVs.signP)}, bootstrap 95% CI ${interval(bestVs)}, ${showP(bestVs.bootstrapP)}); ` +
    `against the best single view tuned the same way (${bestSingle.policy.name}, ${mergeLabel(bestSingle.merge)}, F1 ${pct(singleEval.total.f1)}): ΔF1 ${signed(bestVsSingle.deltaF1)}, ${bestVsSingle.better} / ${bestVsSingle.worse}, ${showP(bestVsSingle.signP)}, CI ${interval(bestVsSingle)}.`)
  json['best'] = { policy: best.policy.name, merge: best.merge, selectionF1: best.selF1, evaluation: bestEval.total, vsControl: bestVs, bestSingle: { policy: bestSingle.policy.name, merge: bestSingle.merge, evaluation: singleEval.total }, vsBestSingle: bestVsSingle }

  console.log(out.join('\n'))
  const jsonPath = arg('json')
  if (jsonPath !== undefined) writeFileSync(jsonPath, `${JSON.stringify(json, null, 1)}\n`)
}

/** The candidate with the highest selection F1; ties go to the first (the grids list defaults and low thresholds first). */
const bestOf = <T extends { readonly selF1: number }>(list: readonly T[]): T => {
  const [first, ...rest] = list
  if (first === undefined) throw new Error('nothing to choose from')
  return rest.reduce((a, b) => (b.selF1 > a.selF1 ? b : a), first)
}

await main()
