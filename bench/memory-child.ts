/**
 * One memory measurement, run in its own process by bench/sections/memory.ts:
 * `node --import tsx [--expose-gc] bench/memory-child.ts <views> <budget bytes|none> <natural|live>`. Segmentation TTA over `views` views (hflip ×
 * rotate90 with repeated angles) of a 1×3×512×512 image, with a cheap JS "model" that returns a
 * fresh [B,2,512,512] mask, so what grows is the library's memory, not onnxruntime's. Prints one
 * JSON line. `natural` samples RSS as the process runs (garbage included, GC when V8 pleases);
 * `live` forces a full GC (needs --expose-gc) at each sample point — inside every model call,
 * when the batch, the new prediction and the merge are all held — so it reads what is retained.
 */
import * as E from 'fp-ts/lib/Either.js'
import { orThrow, product, transforms as T, wrap, zeros, type Tensor } from '../src/index.js'
import { image512 } from './lib/models.js'

const [viewsArg = '8', budgetArg = 'none', modeArg = 'natural'] = process.argv.slice(2)
const live = modeArg === 'live'
const collect = globalThis.gc
if (live && collect === undefined) throw new Error('live mode needs node --expose-gc')
const views = Number(viewsArg)
if (!Number.isInteger(views) || views < 2 || views % 2 !== 0) throw new Error(`views must be an even integer ≥ 2, got ${viewsArg}`)
const angles = Array.from({ length: views / 2 }, (_, k) => 90 * k)
const transforms = product(T.hflip(), orThrow(T.rotate90(angles)))

let peakRss = 0
let peakArrayBuffers = 0
const sample = (): void => {
  // Twice: the second collection finishes sweeping the first one's array buffers, which
  // memoryUsage().arrayBuffers otherwise still counts.
  if (live) { collect?.(); collect?.() }
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers)
}
let calls = 0
const model = async (x: Tensor<readonly ['N', 3, 512, 512]>): Promise<Tensor<readonly ['N', 2, 512, 512]>> => {
  calls++
  const out = orThrow(zeros([x.shape[0], 2, 512, 512]))
  out.data.fill(0.5)
  sample()
  return out
}
const image = image512()
const budget = budgetArg === 'none' ? undefined : Number(budgetArg)
const tta = wrap.segmentation(model, transforms, budget === undefined ? { merge: 'mean', onView: sample } : { merge: 'mean', budget, onView: sample })
const plan = orThrow(tta.plan(image))
if (live) { collect?.(); collect?.() }
const before = process.memoryUsage()
const maxRssBefore = process.resourceUsage().maxRSS * 1024
const timer = live ? undefined : setInterval(sample, 2)
const result = await tta.run(image)()
clearInterval(timer)
sample()
if (E.isLeft(result)) throw new Error(result.left.message)
console.log(JSON.stringify({
  views, budget: budgetArg, mode: modeArg, calls, chunks: plan.chunks.map((c) => c.views.length),
  planPeak: plan.memory.peak, rssBefore: before.rss, arrayBuffersBefore: before.arrayBuffers,
  peakRss, peakArrayBuffers, maxRssBefore, maxRss: process.resourceUsage().maxRSS * 1024,
}))
