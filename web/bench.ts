/**
 * The in-page benchmark (the demo's "Benchmark this browser" button; docs/benchmarks.md records it
 * for Chromium on the project's machine). Two questions, each answered by runs interleaved across
 * the candidates so that a busy machine slows them alike:
 *
 * 1. The d4 augment of one 1×3×512×512 image (8 views into one batch buffer) on the js backend and
 *    on the gpujs backend in each GPU mode this browser offers (WebGL2, WebGPU), against a floor of
 *    8 plain `TypedArray.set` copies. The outputs are checked equal before timing.
 * 2. unetish_512 (bench/models) on onnxruntime-web's WebAssembly and WebGPU providers: one forward
 *    pass at batch 1, and the whole d4 TTA (js kernels), with the masks checked to agree.
 */
import * as E from 'fp-ts/lib/Either.js'
import { aliases, backendNamed, gpujsBackend, resolveAugment, tensor, views, wrap, type Backend, type Stage } from 'tta-lens'
import { onnx, type WebProvider } from 'tta-lens/web'

/** One line of the table. */
export interface BenchRow {
  readonly what: string
  readonly ranOn: string
  readonly ms: number
  readonly runs: number
  /** Against the section's first row. */
  readonly ratio: string
}

type Say = (level: 'info' | 'warn' | 'error', text: string) => void

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2
}

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''

const SIDE = 512
const AUGMENT_RUNS = 7
const MODEL_RUNS = 3

interface Candidate {
  readonly what: string
  readonly ranOn: string
  readonly once: () => Promise<Float32Array>
}

/** Times candidates round-robin: one warm-up each, then `runs` interleaved rounds. */
const interleaved = async (candidates: readonly Candidate[], runs: number): Promise<readonly (readonly number[])[]> => {
  for (const c of candidates) await c.once()
  const times = candidates.map((): number[] => [])
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of candidates.entries()) {
      const started = performance.now()
      await c.once()
      times[i]?.push(performance.now() - started)
    }
  }
  return times
}

const maxDiff = (a: Float32Array, b: Float32Array): number => {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)))
  return m
}

const rows = (candidates: readonly Candidate[], times: readonly (readonly number[])[]): BenchRow[] => {
  const base = median(times[0] ?? [])
  return candidates.map((c, i) => {
    const ms = median(times[i] ?? [])
    return { what: c.what, ranOn: c.ranOn, ms, runs: times[i]?.length ?? 0, ratio: i === 0 ? '1.00×' : `${(ms / base).toFixed(2)}×` }
  })
}

/** Section 1: the d4 augment of 1×3×512×512. */
const augmentSection = async (say: Say): Promise<BenchRow[]> => {
  const planes = 3
  const plane = SIDE * SIDE
  const source = Float32Array.from({ length: planes * plane }, (_, i) => ((i * 2654435761) % 1000) / 1000)
  const specs = views(aliases.d4())
  const stages: (readonly Stage[])[] = []
  for (const spec of specs) {
    const resolved = resolveAugment(spec.steps, SIDE, SIDE)
    if (E.isLeft(resolved)) throw new Error(resolved.left.message)
    stages.push(resolved.right)
  }
  const block = { data: source, offset: 0, planes, height: SIDE, width: SIDE }
  const through = (backend: Backend): Candidate['once'] => {
    const out = new Float32Array(specs.length * planes * plane)
    return async () => {
      for (const [v, s] of stages.entries()) await backend.augment(s, block, out, v * planes * plane)
      return out
    }
  }
  const floorOut = new Float32Array(specs.length * planes * plane)
  const candidates: Candidate[] = [
    { what: 'floor: 8 × TypedArray.set (no transform)', ranOn: 'main thread', once: async () => { for (let v = 0; v < specs.length; v++) floorOut.set(source, v * planes * plane); return floorOut } },
  ]
  const js = await backendNamed('js')
  candidates.push({ what: 'd4 augment, js backend', ranOn: js.detail, once: through(js) })
  for (const mode of ['webgl2', 'webgpu'] as const) {
    try {
      const backend = await gpujsBackend(mode)
      candidates.push({ what: `d4 augment, gpujs ${mode}`, ranOn: `${backend.detail}${rendererNote(mode)}`, once: through(backend) })
    } catch (e) {
      say('warn', `gpujs ${mode} is not available here: ${describe(e)}`)
    }
  }
  // The same views from every backend before any timing.
  const reference = await (candidates[1]?.once() ?? Promise.resolve(new Float32Array())).then((a) => a.slice())
  for (const c of candidates.slice(2)) {
    const diff = maxDiff(await c.once(), reference)
    if (!(diff <= 1e-6)) throw new Error(`${c.what} differs from the js backend by ${diff}`)
  }
  return rows(candidates, await interleaved(candidates, AUGMENT_RUNS))
}

/** What renders WebGL2 or answers WebGPU here (software renderers named). */
let gpuNames: { webgl2: string; webgpu: string } | undefined
const rendererNote = (mode: 'webgl2' | 'webgpu'): string => (gpuNames === undefined ? '' : ` · ${gpuNames[mode]}`)

export const describeGpus = async (): Promise<{ webgl2: string; webgpu: string }> => {
  const canvas = document.createElement('canvas')
  const gl = canvas.getContext('webgl2')
  const info = gl?.getExtension('WEBGL_debug_renderer_info')
  const webgl2 = gl === null ? 'no WebGL2' : info === null || info === undefined ? 'WebGL2' : String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL))
  let webgpu = 'no WebGPU'
  const gpu: unknown = Reflect.get(navigator, 'gpu')
  if (typeof gpu === 'object' && gpu !== null && 'requestAdapter' in gpu && typeof gpu.requestAdapter === 'function') {
    try {
      const adapter: unknown = await gpu.requestAdapter()
      const adapterInfo: unknown = typeof adapter === 'object' && adapter !== null ? Reflect.get(adapter, 'info') : undefined
      const field = (k: string): string => String((typeof adapterInfo === 'object' && adapterInfo !== null ? Reflect.get(adapterInfo, k) : '') ?? '')
      webgpu = adapter === null ? 'no WebGPU adapter' : `WebGPU ${[field('vendor'), field('architecture'), field('description')].filter((s) => s !== '').join(' ')}${field('isFallbackAdapter') === 'true' ? ' (fallback adapter)' : ''}`
    } catch (e) {
      webgpu = `WebGPU failed: ${describe(e)}`
    }
  }
  return { webgl2, webgpu }
}

/** Section 2: unetish_512 on each provider. */
const modelSection = async (say: Say): Promise<BenchRow[]> => {
  const bytes = new Uint8Array(await (await fetch('models/unetish_512.onnx')).arrayBuffer())
  const spec = { inputs: { input: ['N', 3, SIDE, SIDE] }, outputs: { mask: ['N', 2, SIDE, SIDE] } } as const
  const image = tensor([1, 3, SIDE, SIDE], Float32Array.from({ length: 3 * SIDE * SIDE }, (_, i) => ((i * 40503) % 997) / 997))
  if (E.isLeft(image)) throw new Error(image.left.message)
  const candidates: Candidate[] = []
  const d4: Candidate[] = []
  const js = await backendNamed('js')
  for (const provider of ['wasm', 'webgpu'] as const satisfies readonly WebProvider[]) {
    const model = await onnx.load(bytes, spec, { providers: [provider] })()
    if (E.isLeft(model)) {
      say('warn', `onnxruntime-web ${provider} could not load unetish_512: ${model.left.message}`)
      continue
    }
    const m = model.right
    const ranOn = `${m.runtime}${provider === 'webgpu' ? rendererNote('webgpu') : ''}`
    candidates.push({ what: `unetish_512, one pass at batch 1`, ranOn, once: async () => (await m(image.right)).data })
    const tta = wrap.segmentation(m, aliases.d4(), { backend: js, merge: 'mean' })
    d4.push({
      what: 'unetish_512, d4 TTA (8 views, js kernels)', ranOn, once: async () => {
        const out = await tta.run(image.right)()
        if (E.isLeft(out)) throw new Error(out.left.message)
        return out.right.data
      },
    })
  }
  if (candidates.length === 2) {
    // One after the other: onnxruntime-web runs one session at a time.
    const a = (await candidates[0]?.once())?.slice() ?? new Float32Array()
    const b = (await candidates[1]?.once()) ?? new Float32Array()
    const diff = maxDiff(a, b)
    if (!(diff < 1e-3)) throw new Error(`unetish_512 on WebGPU differs from WebAssembly by ${diff}`)
  }
  return [...rows(candidates, await interleaved(candidates, MODEL_RUNS)), ...rows(d4, await interleaved(d4, 1))]
}

/** Runs both sections; rows in table order. */
export const runBenchmark = async (say: Say): Promise<readonly BenchRow[]> => {
  gpuNames = await describeGpus()
  say('info', `WebGL2: ${gpuNames.webgl2}. WebGPU: ${gpuNames.webgpu}.`)
  const augment = await augmentSection(say)
  const models = await modelSection(say)
  return [...augment, ...models]
}
