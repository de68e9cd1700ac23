/**
 * (e) Peak memory against the number of views, one child process per measurement
 * (bench/memory-child.ts), so no run inherits another's heap.
 */
import { spawnSync } from 'node:child_process'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { progress } from '../lib/progress.js'
import { commandLine, mib, table, type SectionResult } from '../lib/report.js'

const Measurement = t.type({
  views: t.number, budget: t.string, mode: t.string, calls: t.number, chunks: t.array(t.number),
  planPeak: t.number, rssBefore: t.number, arrayBuffersBefore: t.number, peakRss: t.number,
  peakArrayBuffers: t.number, maxRssBefore: t.number, maxRss: t.number,
})
type Measurement = t.TypeOf<typeof Measurement>

const child = new URL('../memory-child.ts', import.meta.url).pathname
const BUDGET = 64 * 2 ** 20

const measure = (views: number, budget: string, mode: 'natural' | 'live'): Measurement => {
  const args = ['--import', 'tsx', ...(mode === 'live' ? ['--expose-gc'] : []), child, String(views), budget, mode]
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 })
  const line = r.stdout.trim().split('\n').pop() ?? ''
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    throw new Error(`memory child (${views} views, ${budget}, ${mode}) printed no JSON: ${r.stderr}`)
  }
  const decoded = Measurement.decode(json)
  if (E.isLeft(decoded)) throw new Error(`memory child printed an unexpected line: ${line}`)
  return decoded.right
}

export const memorySection = async (quick: boolean): Promise<SectionResult> => {
  const counts = quick ? [2, 8, 32] : [2, 4, 8, 16, 32]
  const budgets = [String(BUDGET), 'none']
  const rows: { natural: Measurement; live: Measurement }[] = []
  const livePeak = (m: Measurement): number => m.peakArrayBuffers - m.arrayBuffersBefore + imageBytes
  const report = progress('memory (child processes)')
  let done = 0
  for (const budget of budgets) {
    for (const v of counts) {
      rows.push({ natural: measure(v, budget, 'natural'), live: measure(v, budget, 'live') })
      report(++done, budgets.length * counts.length)
    }
  }
  const body = table(
    ['views', 'budget', 'views per call', 'plan estimate MiB', 'live peak MiB', 'RSS at start MiB', 'peak RSS in run MiB', 'RSS growth MiB'],
    rows.map(({ natural, live }) => [
      String(natural.views), natural.budget === 'none' ? 'none' : '64 MiB', natural.chunks.join('+'), mib(natural.planPeak),
      mib(livePeak(live)), mib(natural.rssBefore), mib(natural.peakRss), mib(natural.peakRss - natural.rssBefore),
    ]),
    ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
  )
  const budgeted = rows.filter((r) => r.natural.budget !== 'none')
  const at = (v: number): { natural: Measurement; live: Measurement } | undefined => budgeted.find((r) => r.natural.views === v)
  const big = at(32)
  const mid = at(quick ? 8 : 16)
  const liveFlat = big !== undefined && mid !== undefined ? livePeak(big.live) / livePeak(mid.live) : Number.NaN
  const rssFlat = big !== undefined && mid !== undefined ? big.natural.peakRss / mid.natural.peakRss : Number.NaN
  const maxLive = Math.max(...budgeted.map((r) => livePeak(r.live)))
  return {
    markdown: [
      `Segmentation TTA on a 1×3×512×512 image with V views (\`product(hflip(), rotate90([0, 90, …, 90·(V/2 − 1)]))\`, i.e. the d4 views repeated), a 64 MiB budget or none, and a JavaScript "model" that returns a fresh [B,2,512,512] mask filled with 0.5 — so what is measured is the library's memory, not onnxruntime's. Each row is two child processes (\`node --import tsx bench/memory-child.ts V budget natural|live\`): **live peak** is the largest \`process.memoryUsage().arrayBuffers\` after two forced full GCs (\`--expose-gc\`), taken inside every model call (when the batch, the new prediction and the merge are all held) and after every view's merge, counted from the start of the run plus the image; **peak RSS in run** is the largest \`process.memoryUsage().rss\` of the natural run (no forced GC), sampled at the same points and every 2 ms; it includes Node, tsx and the code, about ${mib(rows[0]?.natural.rssBefore ?? 0)} MiB at the start (the process's \`maxRSS\` is not used: tsx compiling the code sets it before the run). The plan estimate is \`plan.memory.peak\`; without an output signature the planner assumes as many output channels as input channels (3), so it overestimates this 2-channel model's share.`,
      '',
      commandLine('memory'),
      '',
      body,
    ].join('\n'),
    targets: [{
      id: '(e)', target: `peak memory flat in V (64 MiB budget; V = ${mid?.natural.views ?? '?'} → 32, both past the ${big?.natural.chunks[0] ?? '?'}-view chunk the budget allows)`,
      measured: `live peak ×${liveFlat.toFixed(2)} (${mib(mid === undefined ? 0 : livePeak(mid.live))} → ${mib(big === undefined ? 0 : livePeak(big.live))} MiB), peak RSS in run ×${rssFlat.toFixed(2)} (${mib(mid?.natural.peakRss ?? 0)} → ${mib(big?.natural.peakRss ?? 0)} MiB); largest live peak ${mib(maxLive)} MiB, ${maxLive <= BUDGET ? 'within' : 'over'} the 64 MiB budget`,
      met: liveFlat <= 1.05 && rssFlat <= 1.1 && maxLive <= BUDGET,
    }],
    analysis: [
      `**Memory (e).** With a budget the chunk stops growing at ${big?.natural.chunks[0] ?? '?'} views, and so does the live peak: below that the whole product is one chunk and the peak grows with V by design (up to the budget); V = ${mid?.natural.views ?? '?'} → 32 changes it by ×${liveFlat.toFixed(2)}, while without a budget one chunk holds every view and the peak grows linearly (V = 32: ${mib(rows.find((r) => r.natural.budget === 'none' && r.natural.views === 32)?.live.peakArrayBuffers ?? 0)} MiB of array buffers). RSS moves more than live memory because V8 collects the model's discarded predictions when it pleases; the forced-GC column is what the library keeps.${rssFlat > 1.1 && liveFlat <= 1.05 ? ` In this run (e) is marked missed by its RSS condition alone (peak RSS in run ≤ ×1.10 from V = ${mid?.natural.views ?? '?'} to 32): RSS went ${mib(mid?.natural.peakRss ?? 0)} → ${mib(big?.natural.peakRss ?? 0)} MiB (×${rssFlat.toFixed(2)}) while the live peak stayed at ${mib(big === undefined ? 0 : livePeak(big.live))} MiB, i.e. V8 let more garbage accumulate before collecting in the longer run, not the library holding more.` : ''} Two retention bugs in \`src/plan/run.ts\` were found with this measurement and fixed (see "Changes made while benchmarking").`,
    ],
  }
}

const imageBytes = 3 * 512 * 512 * 4
