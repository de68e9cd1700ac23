/**
 * (b), (c), (d): d4 segmentation TTA end to end on unetish_512 with onnxruntime-node (2 threads),
 * against the floor of 8 single passes at batch 1; batching choices; backends, with the run's
 * time split into augment / model / deaugment+merge / the rest.
 */
import { aliases, backendNamed, orThrow, tensor, wrap, type BackendName, type Tensor } from '../../src/index.js'
import { image512, loadUnetish, pixels } from '../lib/models.js'
import { progress } from '../lib/progress.js'
import { quietGate } from '../lib/quiet.js'
import { code, commandLine, gateLine, ms, ratio, table, timingTable, type SectionResult } from '../lib/report.js'
import { byName, interleave, type Timing, type Variant } from '../lib/stats.js'
import { medianParts, recorder, type Parts } from '../lib/instrument.js'

/** The budget whose plan has chunks of k views of 1×3×512×512: image 3 MiB + float64 2-channel merge 4 MiB + k × (3 + 2) MiB. */
const budgetForChunk = (k: number): `${number}MiB` => `${3 + 4 + k * (3 + 2)}MiB`

export const segmentationSection = async (quick: boolean): Promise<SectionResult> => {
  const model = await loadUnetish()
  const image = image512()
  const x8 = orThrow(tensor([8, 3, 512, 512], pixels(8 * 3 * 512 * 512)))

  const d4 = aliases.d4()
  const configs = [
    { name: 'default', tta: wrap.segmentation(model, d4, { merge: 'mean' }) },
    { name: 'maxBatch: 1', tta: wrap.segmentation(model, d4, { merge: 'mean', maxBatch: 1 }) },
    { name: 'batch: false', tta: wrap.segmentation(model, d4, { merge: 'mean', batch: false }) },
    { name: `budget: '${budgetForChunk(2)}'`, tta: wrap.segmentation(model, d4, { merge: 'mean', budget: budgetForChunk(2) }) },
    { name: `budget: '${budgetForChunk(4)}'`, tta: wrap.segmentation(model, d4, { merge: 'mean', budget: budgetForChunk(4) }) },
  ]
  const chunking = (tta: (typeof configs)[number]['tta']): string => orThrow(tta.plan(image)).chunks.map((c) => c.views.length).join('+')
  const notes: Record<string, string> = { 'floor: 8 × model([1,3,512,512])': 'the floor', 'model alone: 1 × model([8,3,512,512])': 'no TTA work: the model at batch 8' }
  for (const c of configs) notes[c.name] = `views per call: ${chunking(c.tta)}`

  // Every configuration must give the same mask (up to batch-dependent rounding in onnxruntime).
  const [first] = configs
  if (first === undefined) throw new Error('no configuration')
  const reference = orThrow(await first.tta.run(image)())
  for (const c of configs.slice(1)) {
    const out = orThrow(await c.tta.run(image)())
    let diff = 0
    for (let i = 0; i < out.data.length; i++) diff = Math.max(diff, Math.abs((out.data[i] ?? Number.NaN) - (reference.data[i] ?? Number.NaN)))
    if (!(diff < 1e-4)) throw new Error(`${c.name} gives a mask ${diff} away from the default's`)
  }

  const floor: Variant = { name: 'floor: 8 × model([1,3,512,512])', run: async () => { for (let k = 0; k < 8; k++) await model(image) } }
  const alone: Variant = { name: 'model alone: 1 × model([8,3,512,512])', run: () => model(x8) }
  const variants: Variant[] = [floor, ...configs.map((c): Variant => ({ name: c.name, run: async () => orThrow(await c.tta.run(image)()) })), alone]
  const gate = quietGate(quick ? 0 : 8000)
  const timings = await interleave(variants, { rounds: quick ? 1 : 10, warmup: 1, onRound: progress('segmentation d4 (batching)'), gate: { gate, per: 'sample' } })

  // Backends, instrumented (see bench/lib/instrument.ts).
  const recorders = new Map<string, ReturnType<typeof recorder>>()
  const instrumented = async (name: string, backendName: BackendName, batch: boolean): Promise<Variant> => {
    const rec = recorder()
    recorders.set(name, rec)
    const timedModel = Object.assign((x: Tensor<readonly ['N', 3, 512, 512]>) => rec.model(() => model(x)), { signature: model.signature })
    const tta = wrap.segmentation(timedModel, aliases.d4(), { merge: 'mean', batch, backend: rec.backend(await backendNamed(backendName)), onView: rec.onView })
    return { name, run: () => rec.measure(async () => orThrow(await tta.run(image)())) }
  }
  const gpujs = await backendNamed('gpujs')
  const backendVariants = [
    await instrumented('js, batched (default)', 'js', true),
    await instrumented('js, batch: false', 'js', false),
    await instrumented('reference, batched', 'reference', true),
    await instrumented('gpujs, batched', 'gpujs', true),
  ]
  const warmup = 1
  const backendGate = quietGate(quick ? 0 : 4000)
  const backendTimings = await interleave(backendVariants, { rounds: quick ? 1 : 5, warmup, onRound: progress('segmentation d4 (backends)'), gate: { gate: backendGate, per: 'sample' } })
  const partsOf = (name: string): Parts => medianParts(recorders.get(name)?.runs ?? [], warmup)
  const breakdown = table(
    ['backend, batching', 'total ms', 'augment ms', 'model ms', 'deaugment + merge ms', 'finalize ms', 'rest ms', 'library ms', 'total ÷ js batched', 'library ÷ js batched'],
    backendTimings.map((t) => {
      const p = partsOf(t.name)
      const base = partsOf(backendTimings[0]?.name ?? '')
      return [t.name, ms(p.total), ms(p.augment), ms(p.model), ms(p.reduce), ms(p.finalize), ms(p.rest), ms(p.library), ratio(t.median / (backendTimings[0]?.median ?? Number.NaN)), ratio(p.library / base.library)]
    }),
  )
  await model.release()

  const f = byName(timings, floor.name)
  const def = byName(timings, 'default')
  const fastest = [...timings].filter((t) => t.name !== alone.name && t.name !== floor.name).sort((a, b) => a.median - b.median)[0]
  const single = byName(timings, 'batch: false')
  const jsBatched = partsOf('js, batched (default)')
  const markdown = [
    `\`wrap.segmentation(model, aliases.d4(), { merge: 'mean', … })\` on a 1×3×512×512 image, with \`model = onnx.load('bench/models/unetish_512.onnx', { inputs: { input: ['N', 3, 512, 512] }, outputs: { mask: ['N', 2, 512, 512] }, threads: 2 })\` (2 intra-op threads, 1 inter-op). The floor calls the model directly 8 times at batch 1 (what TTA cannot avoid); "model alone" calls it once at batch 8. The budgets are image 3 MiB + merge 4 MiB + k × (3 MiB in + 2 MiB out) for chunks of k = 2 and 4 (the "views per call" column is read from each wrapper's plan). All configurations were checked to give the same mask (max |diff| < 1e-4) before timing. For context, the graph's README measured Python's ttach on PyTorch 1.13 on this kind of machine at 234 ms a pass and 1.81 s for d4.`,
    '',
    commandLine('segmentation'),
    '',
    timingTable(timings, floor.name, notes),
    '',
    gateLine(gate, 'timed samples'),
    '',
    `The same run per backend, with the time split by wrapping the backend and the model in timers (bench/lib/instrument.ts; medians over the rounds, each column separately, so they need not add up; "finalize" is from the last view's merge to the result, "rest" is planning, the dry run, output decoding and scheduling; "library" is augment + deaugment/merge + finalize per run, the part that depends on the backend and not on the model). gpu.js: ${code(gpujs.detail)}.`,
    '',
    breakdown,
    '',
    gateLine(backendGate, 'timed samples'),
  ].join('\n')
  const alone8 = byName(timings, alone.name)
  const batchedModel = ['js, batched (default)', 'reference, batched', 'gpujs, batched'].map((name) => partsOf(name).model)
  return {
    markdown,
    targets: [
      {
        id: '(b)', target: 'd4 TTA (default options) ≤ 1.05× the floor of 8 single passes at batch 1',
        measured: `${ratio(def.median / f.median)} by medians (${ms(def.median)} ms vs ${ms(f.median)} ms); ${ratio(def.min / f.min)} by minimums (${ms(def.min)} vs ${ms(f.min)} ms)`,
        met: def.median / f.median <= 1.05,
      },
      {
        id: '(b)', target: 'the fastest batching choice ≤ 1.05× the floor',
        measured: `${fastest?.name ?? '?'} (${fastest === undefined ? '' : notes[fastest.name] ?? ''}): ${ratio((fastest?.median ?? Number.NaN) / f.median)}`,
        met: fastest === undefined ? undefined : fastest.median / f.median <= 1.05,
      },
      {
        id: '(c)', target: 'batched (default) vs one call per view (batch: false), unetish_512 (no target; report)',
        measured: `batched ${ratio(def.median / f.median)} the floor, batch: false ${ratio(single.median / f.median)}: ${def.median < single.median ? 'batched' : 'one call per view'} is faster by ${ratio(Math.max(def.median, single.median) / Math.min(def.median, single.median))}`,
        met: undefined,
      },
    ],
    analysis: [
      segmentationAnalysis({ floor: f, def, single, alone: alone8, maxBatch1: byName(timings, 'maxBatch: 1'), fastest, fastestNote: fastest === undefined ? '' : notes[fastest.name] ?? '', parts: jsBatched }),
      `**Backends end to end (d).** Whole runs: reference ${ratio((backendTimings[2]?.median ?? Number.NaN) / (backendTimings[0]?.median ?? Number.NaN))} and gpujs ${ratio((backendTimings[3]?.median ?? Number.NaN) / (backendTimings[0]?.median ?? Number.NaN))} the js run${Math.max(...batchedModel) > Math.min(...batchedModel) * 1.1
        ? `, but over ${backendTimings[0]?.samples.length ?? 0} rounds these totals move with the model's time, which is the same work in the three batched rows and still spans ${ms(Math.min(...batchedModel))}–${ms(Math.max(...batchedModel))} ms there.`
        : `; the model's time is about the same in the three batched rows (${ms(Math.min(...batchedModel))}–${ms(Math.max(...batchedModel))} ms), so the difference is the backends' own work.`} The backend's own work is the "library" column: js ${ms(partsOf('js, batched (default)').library)} ms, reference ${ms(partsOf('reference, batched').library)} ms (${ratio(partsOf('reference, batched').library / partsOf('js, batched (default)').library)}), gpujs ${ms(partsOf('gpujs, batched').library)} ms (${ratio(partsOf('gpujs, batched').library / partsOf('js, batched (default)').library)}), per d4 run. gpu.js tries WebGPU, headless GL, WebAssembly, then its CPU mode, and \`backend.detail\` says what it picked and why it skipped the better modes: ${code(gpujs.detail)}. Both its augment and its deaugment + merge return nested per-row arrays that the backend copies value by value (and the merge is copied from float64 to float32 and back per view).`,
    ],
  }
}

interface SegFacts {
  readonly floor: Timing
  readonly def: Timing
  readonly single: Timing
  readonly alone: Timing
  readonly maxBatch1: Timing
  readonly fastest: Timing | undefined
  readonly fastestNote: string
  readonly parts: Parts
}

const segmentationAnalysis = (x: SegFacts): string => {
  const f = x.floor.median
  const overhead = x.parts.augment + x.parts.reduce + x.parts.finalize + x.parts.rest
  const perImage = x.alone.median > f * 1.05 ? 'slower per image at batch 8 than at batch 1' : x.alone.median < f * 0.95 ? 'faster per image at batch 8 than at batch 1' : 'about as fast per image at batch 8 as at batch 1'
  return [
    `**Segmentation (b, c).** The default plan puts all 8 views into one call of batch 8 (the ONNX signature has a free \`N\`, so only a budget or \`maxBatch\` caps the chunk) and ran at ${ratio(x.def.median / f)} the floor.`,
    `The model alone at batch 8 took ${ratio(x.alone.median / f)} the floor: on this machine onnxruntime (2 threads) is ${perImage} for this network (the graph's README measured 691 ms against 8 × 88 ms, about even), and that, not the library, decides whether batching helps.`,
    `Fastest configuration: ${x.fastest?.name ?? '?'} (${x.fastestNote}, ${ratio((x.fastest?.median ?? Number.NaN) / f)}). \`batch: false\` makes exactly the floor's 8 calls, so its ratio is the library's own cost plus noise: ${ratio(x.single.median / f)} by medians, ${ratio(x.single.min / x.floor.min)} by minimums (\`maxBatch: 1\`, the same plan: ${ratio(x.maxBatch1.median / f)} and ${ratio(x.maxBatch1.min / x.floor.min)}); the default is ${ratio(x.def.min / x.floor.min)} by minimums.`,
    `From the breakdown (js, batched), the library adds augment ${ms(x.parts.augment)} ms + deaugment and merge ${ms(x.parts.reduce)} ms + finalize ${ms(x.parts.finalize)} ms + the rest ${ms(x.parts.rest)} ms ≈ ${ms(overhead)} ms per d4 run: ${((overhead / f) * 100).toFixed(1)}% of the floor's median and ${((overhead / x.floor.min) * 100).toFixed(1)}% of its minimum (the floor ranged from ${ms(x.floor.min)} to ${ms(Math.max(...x.floor.samples))} ms over the rounds).`,
    overhead / x.floor.min > 0.05
      ? `So on a quiet machine the library's own work alone uses more than the 5% the target allows${x.def.median <= f * 1.05 && x.alone.median < f ? '; the default meets the target by the ratio of medians because onnxruntime gains more from batch 8 than the library costs' : ''}. The largest parts are the gathers: deaugment + merge (8 × 2×512×512 values read through each view's inverse map into the float64 merge) and the augment (see its section); "rest" is planning, the dry run, output decoding, scheduling and any GC pause that falls outside the timed parts.`
      : 'The library\'s own work stays under the 5% the target allows even against the fastest floor.',
    'In ten earlier full runs of this benchmark, made while writing it with other work sharing the 2 cores (5 to 10 rounds each, floors of roughly 0.9 s), the default\'s ratio to the floor ranged 0.89–1.11× by medians and 0.90–1.07× by minimums: under load the verdict on a 5% target depended on the run, and a slower floor hides more of the library\'s fixed cost.',
    'ttach + PyTorch took 1.81 s for the same d4 run and 234 ms a pass on the graph author\'s machine (not re-measured here).',
  ].join(' ')
}
