/**
 * (a) + (d, augment alone): the 8 d4 views of a 1×3×512×512 image augmented into one
 * [8,3,512,512] batch buffer by each backend, against `TypedArray.set` copying the same bytes 8
 * times (the floor: no kernel can write the batch faster than a copy). The js backend runs three
 * ways: through its own batch (`backend.batch`, what `runPlan` uses: the input held in WebAssembly
 * memory beside one copy of the image per chunk), view by view into an ordinary array
 * (`backend.augment`, what a custom caller gets; quarter turns as WebAssembly SIMD transposes
 * through scratch memory), and with WebAssembly turned off (the JavaScript loops it keeps where
 * SIMD is missing).
 * Then the other direction: deaugment + merge of the 8 views' [1,2,512,512] masks into the mean's
 * float64 accumulator, against 8 contiguous passes of the same merge.
 */
import {
  aliases, gpujsBackend, jsBackend, orThrow, referenceBackend, resolveUndoMask, views,
  type Backend, type PlaneBlock, type Stage,
} from '../../src/index.js'
import { lower } from '../../kernels/lower.js'
import { renderJs } from '../../kernels/render-js.js'
import { wasmGatherOf, wasmShape } from '../../kernels/render-wasm.js'
import type { GatherKernel } from '../../kernels/ir.js'
import { d4Stages, pixels } from '../lib/models.js'
import { quietGate } from '../lib/quiet.js'
import { code, commandLine, gateLine, ms, ratio, table, type SectionResult } from '../lib/report.js'
import { byName, interleave, type Timing, type Variant } from '../lib/stats.js'
import { progress } from '../lib/progress.js'

const H = 512
const W = 512
const PER_VIEW = 3 * H * W
const MASK = 2 * H * W
const WASM_OFF = 'js, WebAssembly off'
const JS_BATCH = 'js, own batch (runPlan\'s path)'
const JS_VIEWS = 'js, view by view into an array'

/** How the js backend runs a view's kernel (read from the kernels it generates). */
type Rendering = 'one copy' | 'row copies' | 'row copies + native reverse' | 'one copy + native reverse per plane' | 'element loop'
  | 'WebAssembly SIMD transpose + one copy' | 'WebAssembly SIMD mirror + one copy'
  | 'WebAssembly SIMD transpose' | 'WebAssembly SIMD mirror' | 'WebAssembly SIMD rows'
  | 'contiguous loop' | 'mirrored loop' | 'column walk' | 'WebAssembly SIMD transpose + contiguous loop'

const gathersOf = (stages: readonly Stage[], planes: number, write: 'store' | 'add'): GatherKernel[] =>
  lower(stages, planes, H, W, write).flatMap((k) => (k.kind === 'gather' ? [k] : []))

const augmentRendering = (stages: readonly Stage[], wasm: boolean): Rendering => {
  const kernels = gathersOf(stages, 3, 'store')
  const gather = wasm ? kernels.map((k) => wasmGatherOf(k)).find((g) => g !== undefined) : undefined
  if (gather !== undefined) return wasmShape(gather.map) === 'transpose' ? 'WebAssembly SIMD transpose + one copy' : 'WebAssembly SIMD mirror + one copy'
  const source = kernels.map(renderJs).join('\n')
  return /for \(let j = 0/.test(source) ? 'element loop'
    : source.includes('.reverse()') ? (/for \(let i = 0/.test(source) ? 'row copies + native reverse' : 'one copy + native reverse per plane')
      : /for \(let i = 0/.test(source) ? 'row copies' : 'one copy'
}

/** How the js backend's own batch writes a view: one WebAssembly pass from its copy of the source, or the kernels of `augment`. */
const batchRendering = (stages: readonly Stage[]): Rendering => {
  const kernels = lower(stages, 3, H, W, 'store')
  const only = kernels.length === 1 && kernels[0]?.kind === 'gather' ? kernels[0] : undefined
  const gather = only === undefined ? undefined : wasmGatherOf(only, 'batch')
  if (gather === undefined) return augmentRendering(stages, true)
  const shape = wasmShape(gather.map)
  return shape === 'transpose' ? 'WebAssembly SIMD transpose' : shape === 'mirror' ? 'WebAssembly SIMD mirror' : 'WebAssembly SIMD rows'
}

const reduceRendering = (stages: readonly Stage[], wasm: boolean): Rendering => {
  const kernels = gathersOf(stages, 2, 'add')
  if (wasm && kernels.some((k) => wasmGatherOf(k) !== undefined)) return 'WebAssembly SIMD transpose + contiguous loop'
  const last = kernels[kernels.length - 1]
  const colStride = last === undefined ? 1 : last.pre.ij * last.inWidth + last.pre.jj
  return colStride === 1 ? 'contiguous loop' : colStride === -1 ? 'mirrored loop' : 'column walk'
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  const at = (s.length - 1) * q
  const lo = s[Math.floor(at)] ?? Number.NaN
  const hi = s[Math.ceil(at)] ?? Number.NaN
  return lo + (hi - lo) * (at - Math.floor(at))
}
const spread = (t: Timing): string => `${ms(quantile(t.samples, 0.25))}–${ms(quantile(t.samples, 0.75))}`

/** Median and quartiles, over the rounds, of each round's sample of `t` over the same round's sample of `base`. */
const perRound = (t: readonly number[], base: readonly number[]): string => {
  const r = t.map((x, k) => x / (base[k] ?? Number.NaN))
  return `${ratio(quantile(r, 0.5))} (${ratio(quantile(r, 0.25))}–${ratio(quantile(r, 0.75))})`
}

/**
 * Wall time: median, spread (quartiles of the rounds), minimum, and the ratios to `baseline` — of
 * medians, of minimums, and per round (each round's sample over the baseline's in the same round,
 * which cancels load that hits both alike). Then CPU time (this process's, which other processes
 * holding the cores do not lengthen): median, and per round over the baseline.
 */
const timings = (ts: readonly Timing[], baseline: string): string => {
  const base = byName(ts, baseline)
  return table(
    ['variant', 'median ms', 'middle half of rounds ms', 'min ms', `median ÷ ${baseline}`, 'min ÷ min', 'per round ÷ baseline: median (middle half)', 'CPU ms, median', 'CPU per round ÷ baseline'],
    ts.map((t) => [t.name, ms(t.median), spread(t), ms(t.min), ratio(t.median / base.median), ratio(t.min / base.min), perRound(t.samples, base.samples), ms(t.cpuMedian), perRound(t.cpuSamples, base.cpuSamples)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  )
}

/** The median over rounds of `t`'s sample divided by `base`'s sample of the same round (wall or CPU time). */
const roundRatio = (t: Timing, base: Timing, cpu = false): number =>
  quantile((cpu ? t.cpuSamples : t.samples).map((x, k) => x / ((cpu ? base.cpuSamples : base.samples)[k] ?? Number.NaN)), 0.5)

/** Throws unless `got` equals `want` value for value. */
const sameValues = (what: string, got: ArrayLike<number>, want: ArrayLike<number>): void => {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) throw new Error(`${what} wrote ${got[i]} at ${i}, the reference ${want[i]}`)
  }
}

export const augmentSection = async (quick: boolean): Promise<SectionResult> => {
  const d4 = d4Stages(H, W)
  const src: PlaneBlock = { data: pixels(PER_VIEW), offset: 0, planes: 3, height: H, width: W }
  const dst = new Float32Array(d4.length * PER_VIEW)
  const gpujs = await gpujsBackend()
  const js = jsBackend()
  const jsOff = jsBackend({ wasm: false })
  const wasmOn = /WebAssembly SIMD gathers/.test(js.detail)
  const named: readonly { name: string; backend: Backend; reps: number }[] = [
    { name: JS_VIEWS, backend: js, reps: 5 }, { name: WASM_OFF, backend: jsOff, reps: 5 },
    { name: 'reference', backend: referenceBackend(), reps: 2 }, { name: 'gpujs', backend: gpujs, reps: 1 },
  ]

  // Every backend must write the same batch as the reference before anything is timed.
  const expected = new Float32Array(dst.length)
  for (const [k, v] of d4.entries()) await referenceBackend().augment(v.stages, src, expected, k * PER_VIEW)
  for (const b of named) {
    dst.fill(Number.NaN)
    for (const [k, v] of d4.entries()) await b.backend.augment(v.stages, src, dst, k * PER_VIEW)
    sameValues(`backend ${b.name}`, dst, expected)
  }

  // The js backend's own batch, as runPlan asks for it (a budget with room to spare), checked the same way.
  const held = js.batch?.({ length: dst.length, sourceLength: PER_VIEW, maxBytes: 2 ** 30 })
  if (held === undefined) throw new Error(`the js backend gave no batch of its own (${js.detail})`)
  const fillBatch = async (): Promise<void> => {
    held.source(src)
    for (const [k, v] of d4.entries()) await held.augment(v.stages, k * PER_VIEW)
  }
  held.data.fill(Number.NaN)
  await fillBatch()
  sameValues(JS_BATCH, held.data, expected)

  const copy: Variant = { name: 'copy ×8 (TypedArray.set)', reps: 20, run: () => { for (let k = 0; k < d4.length; k++) dst.set(src.data, k * PER_VIEW) } }
  const copyIntoBatch: Variant = { name: 'copy ×8 into the batch\'s memory', reps: 20, run: () => { for (let k = 0; k < d4.length; k++) held.data.set(src.data, k * PER_VIEW) } }
  const batchVariant: Variant = { name: `${JS_BATCH} augment`, reps: 5, run: fillBatch }
  const augmentWith = (b: (typeof named)[number]): Variant => ({
    name: `${b.name} augment`, reps: b.reps,
    run: async () => { for (const [k, v] of d4.entries()) await b.backend.augment(v.stages, src, dst, k * PER_VIEW) },
  })
  const gate = quietGate(quick ? 0 : 4000)
  // The js backend against the floor, on its own: the reference and gpu.js backends allocate hundreds
  // of MiB a round, and the collection of that garbage (partly on V8's helper threads) lands in
  // whichever sample runs next, so they are compared in a table of their own.
  const jsOnly = await interleave([copy, batchVariant, ...named.slice(0, 2).map(augmentWith), copyIntoBatch], {
    rounds: quick ? 3 : 30, warmup: 3, onRound: progress('augment (js)'), gate: { gate, per: 'round' },
  })
  const all = await interleave([copy, batchVariant, ...named.map(augmentWith)], {
    rounds: quick ? 3 : 10, warmup: 2, onRound: progress('augment (all backends)'), gate: { gate, per: 'round' },
  })

  // Where the js time goes: each view alone (one view's bytes), against one copy.
  held.source(src)
  await held.augment(d4[0]?.stages ?? [], 0) // the identity view: the slot the others read from
  const perView = await interleave([
    { name: 'copy ×1', reps: 40, run: () => { dst.set(src.data, 0) } },
    ...d4.flatMap((v, k): Variant[] => [
      { name: `${v.name} (${JS_BATCH})`, reps: 10, run: () => held.augment(v.stages, k * PER_VIEW) },
      { name: v.name, reps: 10, run: () => js.augment(v.stages, src, dst, k * PER_VIEW) },
      { name: `${v.name} (${WASM_OFF})`, reps: 10, run: () => jsOff.augment(v.stages, src, dst, k * PER_VIEW) },
    ]),
  ], { rounds: quick ? 3 : 10, warmup: 2, onRound: progress('augment (js, per view)'), gate: { gate, per: 'round' } })

  // Deaugment + merge: each view's [1,2,512,512] mask mapped back and added into the mean's accumulator.
  const undo = views(aliases.d4()).map((v) => ({ name: v.name, stages: orThrow(resolveUndoMask(v.steps, H, W)) }))
  const mask: PlaneBlock = { data: Float32Array.from(pixels(MASK), (v) => v + 0.5), offset: 0, planes: 2, height: H, width: W }
  const acc = new Float64Array(MASK)
  const want = new Float64Array(MASK)
  for (const u of undo) await referenceBackend().reduce(u.stages, mask, want, 'add')
  for (const b of [js, jsOff]) {
    acc.fill(0)
    for (const u of undo) await b.reduce(u.stages, mask, acc, 'add')
    sameValues(`reduce on ${b.detail}`, acc, want)
  }
  const reduceFloor: Variant = { name: 'floor: 8 contiguous passes', reps: 5, run: async () => { for (let k = 0; k < undo.length; k++) await js.reduce([], mask, acc, 'add') } }
  const reduceWith = (name: string, b: Backend): Variant => ({ name, reps: 5, run: async () => { for (const u of undo) await b.reduce(u.stages, mask, acc, 'add') } })
  const reduced = await interleave([reduceFloor, reduceWith('js reduce', js), reduceWith(`${WASM_OFF}, reduce`, jsOff)], {
    rounds: quick ? 3 : 15, warmup: 2, onRound: progress('deaugment + merge (js)'), gate: { gate, per: 'round' },
  })
  const reducePerView = await interleave([
    { name: 'one contiguous pass', reps: 10, run: () => js.reduce([], mask, acc, 'add') },
    ...undo.flatMap((u): Variant[] => [
      { name: u.name, reps: 10, run: () => js.reduce(u.stages, mask, acc, 'add') },
      { name: `${u.name} (${WASM_OFF})`, reps: 10, run: () => jsOff.reduce(u.stages, mask, acc, 'add') },
    ]),
  ], { rounds: quick ? 3 : 10, warmup: 2, onRound: progress('deaugment + merge (js, per view)'), gate: { gate, per: 'round' } })

  const floor = byName(jsOnly, copy.name)
  const jsT = byName(jsOnly, `${JS_VIEWS} augment`)
  const batchT = byName(jsOnly, batchVariant.name)
  const intoBatch = byName(jsOnly, copyIntoBatch.name)
  const offT = byName(jsOnly, `${WASM_OFF} augment`)
  const one = byName(perView, 'copy ×1')
  const onePass = byName(reducePerView, 'one contiguous pass')
  const rFloor = byName(reduced, reduceFloor.name)
  const rJs = byName(reduced, 'js reduce')
  const rOff = byName(reduced, `${WASM_OFF}, reduce`)
  const perViewRows = d4.map((v) => {
    const on = byName(perView, v.name)
    const off = byName(perView, `${v.name} (${WASM_OFF})`)
    const own = byName(perView, `${v.name} (${JS_BATCH})`)
    return { name: v.name, rendering: augmentRendering(v.stages, wasmOn), on, off, own, ownRendering: batchRendering(v.stages) }
  })
  const reduceRows = undo.map((u) => ({
    name: u.name, rendering: reduceRendering(u.stages, wasmOn),
    on: byName(reducePerView, u.name), off: byName(reducePerView, `${u.name} (${WASM_OFF})`), offRendering: reduceRendering(u.stages, false),
  }))

  const markdown = [
    `The 8 views of \`aliases.d4()\` on a 1×3×512×512 float32 image (3 MiB) written into one [8,3,512,512] model input (24 MiB), for \`resolveAugment(view.steps, 512, 512)\`. Floor: \`dst.set(image, k·3·512·512)\` for k = 0…7 into an ordinary Float32Array. "${JS_BATCH}" is what \`runPlan\` does with the js backend: the input is the backend's own (\`backend.batch({ length, sourceLength, maxBytes })\`, held in WebAssembly memory), the chunk's source is named once (\`batch.source(image)\`) and each view written with \`batch.augment(stages, k·3·512·512)\`. "${JS_VIEWS}" is \`backend.augment(stages, block, dst, k·3·512·512)\` into the floor's array (every run's path before the backend could hold the input; still what a custom caller gets). "copy ×8 into the batch's memory" is the floor's copies into the backend's input instead. Every backend's batch, the own batch included, was checked equal to the reference's before timing. js: ${code(js.detail)}. "${WASM_OFF}" is \`jsBackend({ wasm: false })\`: quarter turns as the JavaScript loops the backend keeps where WebAssembly SIMD is missing (it has no batch of its own). gpu.js: ${code(gpujs.detail)}.`,
    '',
    commandLine('augment'),
    '',
    'The tables give wall time (median, the middle half of the rounds, minimum) and its ratios to the floor — of medians, of minimums, and per round (each round\'s sample over the floor\'s in the same round) — and this process\'s CPU time beside it: on a machine shared with other work, other processes holding the two cores lengthen wall time but not CPU time (they still slow it through the shared caches and memory).',
    '',
    timings(jsOnly, copy.name),
    '',
    'All backends, interleaved in rounds of their own (the reference and gpu.js allocate hundreds of MiB a round, and collecting that garbage slows whatever runs next, so the js rows above come from rounds without them):',
    '',
    timings(all, copy.name),
    '',
    'Each view alone with the js backend (3 MiB written per view), against one 3 MiB copy, the three js variants interleaved in the same rounds (the own batch after the identity view, as for every view of a d4 chunk but the first); medians of this process\'s CPU time (wall-time medians of such short samples mostly measure the other processes):',
    '',
    table(['view', 'own batch: kernel', 'CPU ms', '÷ one copy', 'view by view: kernel', 'CPU ms', '÷ one copy', `${WASM_OFF}: CPU ms`, '÷ one copy'],
      [
        ['copy ×1', '(the floor)', ms(one.cpuMedian), ratio(1), '', '', '', '', ''],
        ...perViewRows.map((r) => [r.name, r.ownRendering, ms(r.own.cpuMedian), ratio(r.own.cpuMedian / one.cpuMedian), r.rendering, ms(r.on.cpuMedian), ratio(r.on.cpuMedian / one.cpuMedian), ms(r.off.cpuMedian), ratio(r.off.cpuMedian / one.cpuMedian)]),
      ], ['l', 'l', 'r', 'r', 'l', 'r', 'r', 'r', 'r']),
    '',
    `Deaugment + merge, the other direction: each view's [1,2,512,512] float32 mask mapped back through \`resolveUndoMask(view.steps, 512, 512)\` and added into the mean's float64 accumulator (\`backend.reduce(stages, mask, acc, 'add')\`, the write a \`merge: 'mean'\` run uses), for the 8 views. Floor: the same call with no stages, 8 times (one contiguous read-add-write pass per view: the identity view's own work). Both js variants' sums were checked equal to the reference's before timing.`,
    '',
    timings(reduced, reduceFloor.name),
    '',
    'Each undo alone, against one contiguous pass (medians of CPU time, as above):',
    '',
    table(['view (undo)', 'js kernel', 'CPU ms', '÷ one pass', `${WASM_OFF}: kernel`, 'CPU ms', '÷ one pass'],
      [
        ['one contiguous pass', '(the floor)', ms(onePass.cpuMedian), ratio(1), '', '', ''],
        ...reduceRows.map((r) => [r.name, r.rendering, ms(r.on.cpuMedian), ratio(r.on.cpuMedian / onePass.cpuMedian), r.offRendering, ms(r.off.cpuMedian), ratio(r.off.cpuMedian / onePass.cpuMedian)]),
      ], ['l', 'l', 'r', 'r', 'l', 'r', 'r']),
    '',
    gateLine(gate, 'rounds of the five tables'),
  ].join('\n')

  const nsPerFloat = (msPerView: number, floats: number): string => ((msPerView * 1e6) / floats).toFixed(2)
  const range = (xs: readonly number[]): string => (xs.length === 0 ? '—' : Math.min(...xs).toFixed(2) === Math.max(...xs).toFixed(2) ? ratio(xs[0] ?? Number.NaN) : `${ratio(Math.min(...xs))}–${ratio(Math.max(...xs))}`)
  const viewSum = perViewRows.reduce((a, r) => a + r.own.cpuMedian, 0)
  // Views grouped by how the js backend's own batch writes them, with what the same views cost view by view and with WebAssembly off.
  const groups = [...new Set(perViewRows.map((r) => r.ownRendering))].map((rendering) => {
    const rows = perViewRows.filter((r) => r.ownRendering === rendering)
    const share = rows.reduce((a, r) => a + r.own.cpuMedian, 0) / viewSum
    return `${rendering} — ${rows.map((r) => r.name).join(', ')}: ${range(rows.map((r) => r.own.cpuMedian / one.cpuMedian))} one copy (view by view ${range(rows.map((r) => r.on.cpuMedian / one.cpuMedian))}, with WebAssembly off ${range(rows.map((r) => r.off.cpuMedian / one.cpuMedian))}), ${(share * 100).toFixed(0)}% of the 8 views' time`
  })
  const turns = perViewRows.filter((r) => r.ownRendering === 'WebAssembly SIMD transpose')
  const reduceTurns = reduceRows.filter((r) => r.offRendering === 'column walk')
  const met = batchT.median / floor.median <= 2
  const verdict = (x: number): string => `${ratio(x)}${x <= 2 ? '' : ` (${((x / 2 - 1) * 100).toFixed(0)}% over 2×)`}`
  return {
    markdown,
    targets: [
      {
        id: '(a)', target: 'js augment of the 8 d4 views ≤ 2× the copy floor',
        measured: `${JS_BATCH}: ${verdict(batchT.median / floor.median)} by medians (${ms(batchT.median)} ms vs ${ms(floor.median)} ms); ${ratio(batchT.min / floor.min)} by minimums (${ms(batchT.min)} vs ${ms(floor.min)} ms); ${ratio(roundRatio(batchT, floor))} per round, ${ratio(roundRatio(batchT, floor, true))} in CPU time per round. In the same rounds, view by view into an array (the path before) ${ratio(jsT.median / floor.median)} by medians, ${ratio(jsT.min / floor.min)} by minimums, ${ratio(roundRatio(jsT, floor, true))} in CPU time per round; with WebAssembly off ${ratio(offT.median / floor.median)} by medians, ${ratio(roundRatio(offT, floor, true))} in CPU time per round`,
        met,
      },
      {
        id: '(a)', target: 'js deaugment + merge (mean) of the 8 d4 views against 8 contiguous passes (no target; report)',
        measured: `${ratio(rJs.median / rFloor.median)} by medians (${ms(rJs.median)} ms vs ${ms(rFloor.median)} ms), ${ratio(roundRatio(rJs, rFloor))} per round, ${ratio(roundRatio(rJs, rFloor, true))} in CPU time; with WebAssembly off ${ratio(rOff.median / rFloor.median)} (${ms(rOff.median)} ms), ${ratio(roundRatio(rOff, rFloor))} per round, ${ratio(roundRatio(rOff, rFloor, true))} in CPU time, in the same rounds`,
        met: undefined,
      },
    ],
    analysis: [
      [
        `**Augment (a).** Through its own batch (what \`runPlan\` uses) the js backend needs ${ratio(batchT.median / floor.median)} the copy floor for the 8 d4 views by medians (${ms(batchT.median)} ms; ${ratio(roundRatio(batchT, floor))} per round, ${ratio(batchT.min / floor.min)} by minimums, ${ratio(roundRatio(batchT, floor, true))} in CPU time per round). In the same rounds, view by view into an ordinary array (every run's path before) it needs ${ratio(jsT.median / floor.median)} (${ms(jsT.median)} ms; ${ratio(jsT.min / floor.min)} by minimums, ${ratio(roundRatio(jsT, floor, true))} in CPU time per round), and with WebAssembly off ${ratio(offT.median / floor.median)} (${ms(offT.median)} ms; ${ratio(roundRatio(offT, floor, true))} in CPU time per round): the own batch is ${ratio(jsT.median / batchT.median)} faster than view by view and ${ratio(offT.median / batchT.median)} faster than the JavaScript loops. The floor's copies into the batch's WebAssembly memory instead of an ordinary array take ${ratio(intoBatch.median / floor.median)} the floor (${ratio(roundRatio(intoBatch, floor, true))} in CPU time per round), so where the input lives costs nothing by itself.`,
        `Per view, each alone against one native copy in CPU time (${nsPerFloat(one.cpuMedian, PER_VIEW)} ns per float): ${groups.join('; ')}.`,
        'What each costs in passes over the 3 MiB, where the floor makes one: the own batch keeps the input in WebAssembly memory (beside room for a copy of the image); the identity view, first in d4, is one native `set` from the caller\'s image into its slot, and that slot is then the image every other view reads (a chunk without the identity view before its turns copies the image into the room beside once), so each quarter turn, mirror, half turn and vertical flip is one SIMD pass from there into the view\'s own slot — a turn in 4×4 blocks (four 128-bit row loads, eight shuffles, four 128-bit stores; bands of 16 rows so each 64-byte source line is used whole), a mirror 16 values a step with a lane reversal, a vertical flip 16 values a step in reversed row order; the identity stays one native `set` from the caller\'s image. View by view into an ordinary array, WebAssembly can read and write only its own memory, so a turn copied the planes in, transposed them and copied them out (three passes), and a mirror the same; a half turn was a `set` and a native `reverse` per plane (two passes), a vertical flip one `set` per row (1,536 calls).',
        met
          ? `So the target is met by medians in this run (${ratio(batchT.median / floor.median)}); the margin depends on how busy the machine is (see the per-round spread in the table). What is left above the floor is the turns: even as one pass, a turn costs ${range(turns.map((r) => r.own.cpuMedian / one.cpuMedian))} one copy, since it writes 16 output rows 16 bytes at a time where the engine's copy streams whole cache lines.`
          : `So the target is missed by medians, ${verdict(batchT.median / floor.median)}, though the own batch removed the per-view copies in and out. What is left above the floor is mostly the turns: even as one pass, a turn costs ${range(turns.map((r) => r.own.cpuMedian / one.cpuMedian))} one copy, since it writes 16 output rows 16 bytes at a time where the engine's copy streams whole cache lines; the four turns are ${((turns.reduce((a, r) => a + r.own.cpuMedian, 0) / viewSum) * 100).toFixed(0)}% of the 8 views' time.`,
      ].join(' '),
      `**Deaugment + merge (a, other direction).** The mean's reduce of the 8 views takes ${ratio(rJs.median / rFloor.median)} 8 contiguous passes by medians (${ms(rJs.median)} ms; ${ratio(roundRatio(rJs, rFloor))} per round, ${ratio(roundRatio(rJs, rFloor, true))} in CPU time), ${ratio(rOff.median / rFloor.median)} with WebAssembly off (${ms(rOff.median)} ms; ${ratio(roundRatio(rOff, rFloor))} per round, ${ratio(roundRatio(rOff, rFloor, true))} in CPU time). The undo of a quarter turn is a quarter turn, so its kernel has the same shape and the same split — transposed in WebAssembly, then the merge's add as a contiguous JavaScript loop over the turned rows (in CPU time, ${reduceTurns.map((r) => `${r.name}: ${ratio(r.on.cpuMedian / onePass.cpuMedian)} one pass, ${ratio(r.off.cpuMedian / onePass.cpuMedian)} as a column walk`).join('; ')}). Here the JavaScript add dominates every view, turned or not: one contiguous pass reads a float32 and adds it into a float64 (${nsPerFloat(onePass.cpuMedian, MASK)} ns of CPU per value), where a native copy moves a float in a fraction of that; mirrored undos stay JavaScript loops, since their rows are contiguous already.`,
      `**Backends on augment (d).** In their own rounds, reference ${ratio(byName(all, 'reference augment').median / byName(all, batchVariant.name).median)} and gpujs ${ratio(byName(all, 'gpujs augment').median / byName(all, batchVariant.name).median)} the js time (its own batch; the reference and gpu.js have none, so the interpreter allocates their input and calls \`augment\`). The reference runs each stage through a closure per pixel; gpu.js in \`${gpujs.detail.split(' (')[0] ?? gpujs.detail}\` mode computes into nested per-row arrays that the backend then copies value by value into the batch. It does not matter end to end: the whole js augment is ${ms(batchT.median)} ms against ≈ 8 model passes of the 512×512 network (see the segmentation tables).`,
    ],
  }
}
