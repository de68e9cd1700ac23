/**
 * The demo page: pick a sample (or your image), a model (or your ONNX file), a policy and where
 * the kernels run; see every view, each view's prediction mapped back, the merged result and the
 * disagreement between views, with timings. Everything runs in the page with the library as a user
 * imports it ('tta-lens', 'tta-lens/web').
 *
 * Bad input never blanks the page: an image that does not decode, a file that is not an ONNX model,
 * a browser without WebGPU or WebGL2 — each gets a visible message and a fallback (the previous
 * input, the bundled model, WebAssembly, the js backend). The browser tests drive the page through
 * `window.ttaDemo` and its controls.
 */
import * as E from 'fp-ts/lib/Either.js'
import {
  backendNamed, gpujsBackend, parsePolicy, runnableViews, tensor, textdet, wrap,
  type AnyFactor, type Backend, type OnnxModel, type OnnxSpec, type Plan, type Product, type Shape, type Tensor,
} from 'tta-lens'
import { onnx, type WebProvider } from 'tta-lens/web'
import { runBenchmark, type BenchRow } from './bench.js'
import { base64Floats, drawBoxes, heatCanvas, pictureCanvas, softmax, type Picture } from './draw.js'

// ---------------------------------------------------------------------------------------------
// Catalogue: the samples and models the page offers
// ---------------------------------------------------------------------------------------------

interface Sample {
  readonly id: string
  readonly kind: 'fashion' | 'text'
  readonly file: string
  readonly title: string
  readonly label?: number
}

type Task = 'classification' | 'detection' | 'segmentation'

interface ModelEntry {
  readonly id: string
  readonly title: string
  readonly kind: 'fashion' | 'text' | 'custom'
  readonly task: Task
  readonly source: string | Uint8Array
  /** Declared signature for the bundled models; a file of the user's is opened with the file's own. */
  readonly spec?: OnnxSpec<Shape, Readonly<Record<string, Shape>>>
}

const MODELS: readonly ModelEntry[] = [
  { id: 'cnn_aug', title: 'Fashion-MNIST CNN trained with flips and shifts (cnn_aug.onnx)', kind: 'fashion', task: 'classification', source: 'models/cnn_aug.onnx',
    spec: { inputs: { image: ['N', 1, 28, 28] }, outputs: { logits: ['N', 10] } } },
  { id: 'cnn_plain', title: 'Fashion-MNIST CNN trained without augmentation (cnn_plain.onnx)', kind: 'fashion', task: 'classification', source: 'models/cnn_plain.onnx',
    spec: { inputs: { image: ['N', 1, 28, 28] }, outputs: { logits: ['N', 10] } } },
  { id: 'ppocr_det', title: 'PP-OCRv4 text detector (ch_PP-OCRv4_det)', kind: 'text', task: 'detection', source: 'models/ppocr_det.onnx', spec: textdet.DETECTOR_SPEC },
]

let samples: readonly Sample[] = []
let classes: readonly string[] = []
let customModel: ModelEntry | undefined

// ---------------------------------------------------------------------------------------------
// Messages: every problem is shown in the page; nothing goes to console.error
// ---------------------------------------------------------------------------------------------

const $ = (id: string): HTMLElement => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element
}
const select = (id: string): HTMLSelectElement => {
  const element = $(id)
  if (!(element instanceof HTMLSelectElement)) throw new Error(`#${id} is not a select`)
  return element
}

type Level = 'info' | 'warn' | 'error'
let messageLog: { readonly level: Level; readonly text: string }[] = []

const say = (level: Level, text: string): void => {
  messageLog.push({ level, text })
  const p = document.createElement('p')
  p.className = level
  p.textContent = text
  $('messages').append(p)
}
const clearMessages = (): void => {
  messageLog = []
  $('messages').replaceChildren()
}
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

window.addEventListener('error', (event) => {
  say('error', `Unexpected error: ${event.message}`)
  event.preventDefault()
})
window.addEventListener('unhandledrejection', (event) => {
  say('error', `Unexpected error: ${describe(event.reason)}`)
  event.preventDefault()
})

// ---------------------------------------------------------------------------------------------
// Inputs: decoding images, turning them into the model's tensor
// ---------------------------------------------------------------------------------------------

/** Decodes an image (URL or file) to RGBA pixels; at most `maxSide` on its longer side. */
const decodePicture = async (source: Blob, maxSide = 960): Promise<Picture> => {
  const bitmap = await createImageBitmap(source)
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height))
  const width = Math.max(1, Math.round(bitmap.width * scale))
  const height = Math.max(1, Math.round(bitmap.height * scale))
  const canvas = new OffscreenCanvas(width, height)
  const context = canvas.getContext('2d')
  if (context === null) throw new Error('no 2D canvas to decode the image into')
  context.drawImage(bitmap, 0, 0, width, height)
  bitmap.close()
  return { rgba: context.getImageData(0, 0, width, height).data, width, height }
}

const fetchBlob = async (url: string): Promise<Blob> => {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`cannot fetch ${url}: HTTP ${response.status}`)
  return response.blob()
}

/** Resizes a picture (bilinear, by the canvas) to exactly `width`×`height`. */
const resizePicture = (picture: Picture, width: number, height: number): Picture => {
  if (picture.width === width && picture.height === height) return picture
  const from = new OffscreenCanvas(picture.width, picture.height)
  from.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(picture.rgba), picture.width, picture.height), 0, 0)
  const to = new OffscreenCanvas(width, height)
  const context = to.getContext('2d')
  if (context === null) throw new Error('no 2D canvas to resize the image')
  context.drawImage(from, 0, 0, width, height)
  return { rgba: context.getImageData(0, 0, width, height).data, width, height }
}

/** What the model gets, and how to show it. */
type Nchw = readonly [number, number, number, number]

interface Prepared {
  readonly input: Tensor<Nchw>
  /** The picture as the model sees it (same size as the input's H×W). */
  readonly picture: Picture
  /** Detection: the image's own size inside the padded input. */
  readonly size?: { readonly width: number; readonly height: number }
}

const rank4 = (shape: readonly number[]): readonly [number, number, number, number] => [shape[0] ?? 1, shape[1] ?? 1, shape[2] ?? 1, shape[3] ?? 1]

const prepare = (picture: Picture, entry: ModelEntry, signature: readonly (number | string)[] | undefined): Prepared => {
  if (entry.task === 'detection') {
    const rgb = new Uint8Array(picture.width * picture.height * 3)
    for (let p = 0; p < picture.width * picture.height; p++) for (let c = 0; c < 3; c++) rgb[3 * p + c] = picture.rgba[4 * p + c] ?? 0
    const prepared = textdet.preprocess({ data: rgb, width: picture.width, height: picture.height, channels: 3 })
    if (E.isLeft(prepared)) throw new Error(prepared.left.message)
    const [, , h, w] = rank4(prepared.right.input.shape)
    const padded = new Uint8ClampedArray(w * h * 4)
    for (let y = 0; y < picture.height; y++) padded.set(picture.rgba.subarray(y * picture.width * 4, (y + 1) * picture.width * 4), y * w * 4)
    for (let a = 3; a < padded.length; a += 4) padded[a] = 255
    return { input: prepared.right.input, picture: { rgba: padded, width: w, height: h }, size: { width: prepared.right.width, height: prepared.right.height } }
  }
  const channels = typeof signature?.[1] === 'number' ? signature[1] : 3
  if (channels !== 1 && channels !== 3) throw new Error(`the model takes ${channels} channels; this page feeds 1 (grey) or 3 (RGB)`)
  const height = typeof signature?.[2] === 'number' ? signature[2] : picture.height
  const width = typeof signature?.[3] === 'number' ? signature[3] : picture.width
  const sized = resizePicture(picture, width, height)
  const data = new Float32Array(channels * width * height)
  for (let p = 0; p < width * height; p++) {
    const [r, g, b] = [sized.rgba[4 * p] ?? 0, sized.rgba[4 * p + 1] ?? 0, sized.rgba[4 * p + 2] ?? 0]
    if (channels === 1) data[p] = (r + g + b) / 3 / 255
    else for (let c = 0; c < channels; c++) data[c * width * height + p] = ([r, g, b][c] ?? 0) / 255
  }
  const shape: Nchw = [1, channels, height, width]
  const input = tensor(shape, data)
  if (E.isLeft(input)) throw new Error(input.left.message)
  return { input: input.right, picture: sized }
}

// ---------------------------------------------------------------------------------------------
// Models and backends, cached
// ---------------------------------------------------------------------------------------------

type PageModel = OnnxModel<Shape, Readonly<Record<string, Shape>>>
const modelCache = new Map<string, { model: PageModel; loadMs: number }>()

const providersFor = (choice: string): readonly WebProvider[] =>
  choice === 'wasm' ? ['wasm'] : choice === 'webgpu' ? ['webgpu', 'wasm'] : ['webgpu', 'wasm']

const loadModel = async (entry: ModelEntry, providerChoice: string): Promise<{ model: PageModel; loadMs: number; cached: boolean }> => {
  const key = `${entry.id}|${providerChoice}`
  const hit = modelCache.get(key)
  if (hit !== undefined) return { ...hit, cached: true }
  const started = performance.now()
  const providers = providersFor(providerChoice)
  const loaded = entry.spec === undefined
    ? await onnx.open(entry.source, {}, { providers })()
    : await onnx.load(entry.source, entry.spec, { providers })()
  if (E.isLeft(loaded)) throw new Error(loaded.left.message)
  const made = { model: loaded.right, loadMs: performance.now() - started }
  modelCache.set(key, made)
  return { ...made, cached: false }
}

/** The kernels backend; a gpujs that found no GPU mode falls back to js, with a message. */
const pickBackend = async (choice: string): Promise<Backend> => {
  if (choice === 'js' || choice === 'reference') return backendNamed(choice)
  const mode = choice === 'gpujs:webgl2' ? 'webgl2' : choice === 'gpujs:webgpu' ? 'webgpu' : undefined
  try {
    const backend = mode === undefined ? await backendNamed('gpujs') : await gpujsBackend(mode)
    if (/^gpujs (webasm|cpu)/.test(backend.detail)) {
      say('warn', `No WebGPU or WebGL2 for gpu.js here (${backend.detail}); running the kernels on the js backend instead, which is faster on a CPU.`)
      return backendNamed('js')
    }
    return backend
  } catch (e) {
    say('warn', `gpu.js could not start${mode === undefined ? '' : ` on ${mode}`}: ${describe(e)}. Running the kernels on the js backend instead.`)
    return backendNamed('js')
  }
}

// ---------------------------------------------------------------------------------------------
// Running TTA, with every view's prediction captured
// ---------------------------------------------------------------------------------------------

interface RunOptions {
  readonly sample?: string
  readonly model?: string
  readonly policy?: string
  readonly backend?: string
  readonly provider?: string
  /** Decode samples to at most this many pixels on the longer side (default 960). */
  readonly maxSide?: number
}

/** What a run returns to the browser tests: inputs and outputs as base64 float32. */
export interface RunSummary {
  readonly ok: boolean
  readonly task: Task
  readonly model: string
  readonly runtime: string
  readonly backend: string
  readonly views: number
  readonly input: { readonly shape: readonly number[]; readonly data: string }
  readonly output: { readonly shape: readonly number[]; readonly data: string }
  readonly detections: number
  readonly timings: Readonly<Record<string, number>>
  readonly messages: readonly { readonly level: Level; readonly text: string }[]
}

let currentPicture: { readonly picture: Picture; readonly from: string; readonly maxSide: number } | undefined

const sampleById = (id: string): Sample | undefined => samples.find((s) => s.id === id)
const modelById = (id: string): ModelEntry | undefined => (id === 'custom' ? customModel : MODELS.find((m) => m.id === id))

const run = async (options: RunOptions = {}): Promise<RunSummary> => {
  clearMessages()
  const sampleId = options.sample ?? (currentPicture?.from === 'file' ? 'file' : select('sample').value)
  const sample = sampleById(sampleId)
  if (options.sample !== undefined && sample !== undefined) select('sample').value = sample.id
  const maxSide = options.maxSide ?? 960
  if (sample !== undefined && (currentPicture?.from !== sample.id || currentPicture.maxSide !== maxSide)) {
    currentPicture = { picture: await decodePicture(await fetchBlob(sample.file), maxSide), from: sample.id, maxSide }
  }
  if (currentPicture === undefined) throw new Error('choose a sample or an image first')
  syncModels()
  const wantedModel = options.model ?? select('model').value
  let entry = modelById(wantedModel)
  if (entry === undefined) throw new Error(`no model '${wantedModel}'`)
  if (options.model !== undefined) select('model').value = entry.id
  const policyName = options.policy ?? select('policy').value
  const backendChoice = options.backend ?? select('backend').value
  const providerChoice = options.provider ?? select('provider').value
  select('policy').value = policyName
  select('backend').value = backendChoice
  select('provider').value = providerChoice

  const timings: Record<string, number> = {}
  let loaded: Awaited<ReturnType<typeof loadModel>>
  try {
    loaded = await loadModel(entry, providerChoice)
  } catch (e) {
    if (entry.kind !== 'custom') throw e
    const fallback = MODELS.find((m) => m.kind === (sample?.kind ?? 'fashion')) ?? MODELS[0]
    if (fallback === undefined) throw e
    say('error', `Your model could not be used: ${describe(e)}. Using the bundled ${fallback.title} instead.`)
    entry = fallback
    select('model').value = entry.id
    loaded = await loadModel(entry, providerChoice)
  }
  const { model } = loaded
  if (!loaded.cached) timings['model load'] = loaded.loadMs
  if (providerChoice === 'webgpu' && !model.runtime.startsWith('onnxruntime-web webgpu')) {
    say('warn', `WebGPU is not available to onnxruntime-web here; the model runs on WebAssembly (${model.runtime}).`)
  }
  const backend = await pickBackend(backendChoice)
  const prepared = prepare(currentPicture.picture, entry, model.signature.input)
  const product = parsePolicy(policyName)
  if (E.isLeft(product)) throw new Error(product.left.message)

  // The model as the wrapper calls it, recording each call's output (one call per chunk of views).
  const calls: { readonly output: Tensor<Shape>; readonly ms: number }[] = []
  const capturing = Object.assign(async (batch: Tensor<Shape>): Promise<Tensor<Shape>> => {
    const started = performance.now()
    const out = await model(batch)
    const output = isTensor(out) ? out : Object.values(out).find(isTensor)
    if (output === undefined) throw new Error('the model returned no output')
    calls.push({ output, ms: performance.now() - started })
    return output
  }, { signature: model.signature })

  const options_ = { backend, merge: 'mean' as const }
  const classification = entry.task === 'classification'
  const tta = classification ? wrap.classification(capturing, product.right, options_) : wrap.segmentation(capturing, product.right, options_)
  const plan = tta.plan(prepared.input)
  if (E.isLeft(plan)) throw new Error(plan.left.message)
  const started = performance.now()
  const merged = await tta.run(prepared.input)()
  timings['TTA run (all views)'] = performance.now() - started
  if (E.isLeft(merged)) throw new Error(merged.left.message)
  const modelMs = calls.reduce((a, c) => a + c.ms, 0)
  timings['model calls'] = modelMs
  timings['kernels: augment, map back, merge'] = Math.max(0, (timings['TTA run (all views)'] ?? 0) - modelMs)

  const perView = viewOutputs(plan.right, calls.map((c) => c.output))
  const shown = performance.now()
  const detections = render(entry, prepared, plan.right, product.right, perView, merged.right, policyName)
  timings['drawing'] = performance.now() - shown
  renderTimings(timings, model.runtime, backend.detail, plan.right.views.length, calls.length)
  return {
    ok: true,
    task: entry.task,
    model: entry.id,
    runtime: model.runtime,
    backend: backend.detail,
    views: plan.right.views.length,
    input: { shape: prepared.input.shape, data: base64Floats(prepared.input.data) },
    output: { shape: merged.right.shape, data: base64Floats(merged.right.data) },
    detections,
    timings,
    messages: [...messageLog],
  }
}

const isTensor = (value: unknown): value is Tensor<Shape> =>
  typeof value === 'object' && value !== null && Reflect.get(value, 'data') instanceof Float32Array && Array.isArray(Reflect.get(value, 'shape'))

/** Splits the captured batch outputs into one tensor per view, in the plan's view order. */
const viewOutputs = (plan: Plan, outputs: readonly Tensor<Shape>[]): readonly Tensor<readonly number[]>[] => {
  if (outputs.length !== plan.chunks.length) throw new Error(`expected ${plan.chunks.length} model calls, saw ${outputs.length}`)
  const perView: Tensor<readonly number[]>[] = []
  plan.chunks.forEach((chunk, c) => {
    const out = outputs[c]
    if (out === undefined) return
    const dims = out.shape.map((d) => (typeof d === 'number' ? d : 1))
    const rowSize = out.data.length / (dims[0] ?? 1)
    chunk.views.forEach((view, slot) => {
      const one = tensor([1, ...dims.slice(1)], out.data.subarray(slot * rowSize, (slot + 1) * rowSize))
      if (E.isLeft(one)) throw new Error(one.left.message)
      perView[view] = one.right
    })
  })
  return perView
}

// ---------------------------------------------------------------------------------------------
// Showing a run
// ---------------------------------------------------------------------------------------------

const figure = (canvas: HTMLCanvasElement, caption: string, small = false): HTMLElement => {
  const f = document.createElement('figure')
  if (small) f.className = 'small'
  const c = document.createElement('figcaption')
  c.textContent = caption
  f.append(canvas, c)
  return f
}

const bars = (title: string, values: ArrayLike<number>, labels: ArrayLike<string>, spread = false): HTMLElement => {
  const f = document.createElement('figure')
  const grid = document.createElement('div')
  grid.className = 'bars'
  const top = Math.max(1e-9, ...Array.from(values))
  Array.from(values).forEach((v, i) => {
    const name = document.createElement('span')
    name.textContent = labels[i] ?? String(i)
    const bar = document.createElement('div')
    bar.className = spread ? 'bar spread' : 'bar'
    bar.style.width = `${Math.round((100 * v) / top)}%`
    const value = document.createElement('span')
    value.className = 'num'
    value.textContent = v.toFixed(3)
    grid.append(name, bar, value)
  })
  const c = document.createElement('figcaption')
  c.textContent = title
  f.append(grid, c)
  return f
}

/** Per-view pictures, per-view predictions mapped back, merged result and disagreement. */
const render = (entry: ModelEntry, prepared: Prepared, plan: Plan, product: Product<readonly AnyFactor[]>, perView: readonly Tensor<readonly number[]>[], merged: Tensor<Shape>, policy: string): number => {
  $('result').hidden = false
  const views = runnableViews(product)
  const [, channels, height, width] = rank4(prepared.input.shape)
  const viewsBox = $('views')
  const perViewBox = $('per-view')
  const mergedBox = $('merged')
  viewsBox.replaceChildren()
  perViewBox.replaceChildren()
  mergedBox.replaceChildren()
  const zoom = entry.task === 'classification' ? 4 : 1
  plan.views.forEach((spec, v) => {
    const view = views[v]
    if (view === undefined) return
    const augmented = view.augmentImage(prepared.input)
    if (E.isLeft(augmented)) return
    const [, , vh, vw] = rank4(augmented.right.shape)
    const canvas = entry.task === 'detection'
      ? pictureCanvas(denormalise(augmented.right.data, vh, vw), vw, vh, 0.5)
      : heatCanvas(augmented.right.data.subarray(0, vh * vw), vw, vh, { zoom, grey: true, channels: channels === 3 ? augmented.right.data : undefined })
    viewsBox.append(figure(canvas, spec.name, entry.task !== 'classification'))
  })
  if (entry.task === 'classification') {
    const probs = perView.map((out) => softmax(out.data))
    const mergedProbs = softmax(merged.data)
    const labels: readonly string[] = classes.length === mergedProbs.length ? classes : Array.from(mergedProbs, (_, i) => `class ${i}`)
    const topOf = (p: Float32Array): number => p.reduce((best, v, i) => (v > (p[best] ?? -Infinity) ? i : best), 0)
    const mergedTop = topOf(mergedProbs)
    $('per-view-caption').textContent = 'Labels do not move under flips and turns, so each view\'s class scores are already in the image\'s frame: here the top class and its probability for each view.'
    probs.forEach((p, v) => {
      const top = topOf(p)
      const canvas = heatCanvas(p, p.length, 1, { zoom: 12, grey: false })
      perViewBox.append(figure(canvas, `${plan.views[v]?.name ?? v}: ${labels[top] ?? top} (${((p[top] ?? 0) * 100).toFixed(1)}%)`, true))
    })
    const agree = probs.filter((p) => topOf(p) === mergedTop).length
    const spread = Array.from(mergedProbs, (_, k) => {
      const values = probs.map((p) => p[k] ?? 0)
      const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)
      return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length))
    })
    mergedBox.append(
      bars(`Merged (mean of the ${plan.views.length} views' logits, then softmax): ${labels[mergedTop] ?? mergedTop}`, mergedProbs, labels),
      bars(`Disagreement: for each class, the standard deviation of its probability across the views. ${agree} of ${plan.views.length} views agree with the merged class.`, spread, labels, true),
    )
    $('summary').textContent = `${entry.title}: ${labels[mergedTop] ?? mergedTop} (${((mergedProbs[mergedTop] ?? 0) * 100).toFixed(1)}%) from ${plan.views.length} views with ${policy}.`
    return 0
  }
  // Segmentation / detection: maps in the input's frame.
  const mapped = perView.map((out, v) => {
    const view = views[v]
    const [n, k, h, w] = rank4(out.shape)
    const mask = tensor([n, k, h, w], out.data)
    const back = view === undefined || E.isLeft(mask) ? undefined : view.deaugmentMask(mask.right, prepared.input)
    return back !== undefined && E.isRight(back) ? back.right.data.subarray(0, height * width) : new Float32Array(height * width)
  })
  $('per-view-caption').textContent = entry.task === 'detection'
    ? 'The text probability each view predicted, turned and flipped back into the photo\'s frame (brighter = more likely text).'
    : 'Each view\'s predicted map (first channel), mapped back into the image\'s frame.'
  mapped.forEach((m, v) => perViewBox.append(figure(heatCanvas(m, width, height, { zoom: 1, grey: false }), plan.views[v]?.name ?? String(v), true)))
  const mergedMap = merged.data.subarray(0, height * width)
  const spread = new Float32Array(height * width)
  for (let p = 0; p < spread.length; p++) {
    let mean = 0
    for (const m of mapped) mean += m[p] ?? 0
    mean /= Math.max(1, mapped.length)
    let sq = 0
    for (const m of mapped) sq += ((m[p] ?? 0) - mean) ** 2
    spread[p] = Math.sqrt(sq / Math.max(1, mapped.length))
  }
  let detections = 0
  if (entry.task === 'detection' && prepared.size !== undefined) {
    const found = textdet.boxesFromProbability(merged, { size: prepared.size })
    const boxes = E.isRight(found) ? found.right : []
    detections = boxes.length
    const photo = pictureCanvas(prepared.picture.rgba, prepared.picture.width, prepared.picture.height, 1)
    drawBoxes(photo, boxes.map((d) => d.box))
    mergedBox.append(figure(photo, `The photo with the ${boxes.length} text boxes found in the merged map (PP-OCR's post-processing: threshold 0.3, box score ≥ 0.6).`))
  }
  const top = spread.reduce((m, v) => Math.max(m, v), 1e-6)
  mergedBox.append(
    figure(heatCanvas(mergedMap, width, height, { zoom: 1, grey: false }), `Merged map: the mean of the ${plan.views.length} mapped-back maps.`),
    figure(heatCanvas(spread, width, height, { zoom: 1, grey: false, max: top }),
      `Disagreement map: per pixel, the standard deviation of the ${plan.views.length} views' probabilities (brightest = ${top.toFixed(2)}). Bright where the views disagree — usually the edges of text and the places a flip or turn changes what the model sees; dark where all views agree.`),
  )
  $('summary').textContent = `${entry.title}: ${entry.task === 'detection' ? `${detections} text boxes` : 'mask'} from ${plan.views.length} views with ${policy}.`
  return detections
}

/** The detector's normalised input back to displayable RGBA. */
const denormalise = (data: Float32Array, height: number, width: number): Uint8ClampedArray => {
  const rgba = new Uint8ClampedArray(width * height * 4)
  const plane = width * height
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) rgba[4 * p + c] = ((data[c * plane + p] ?? 0) * (textdet.PPOCR_STD[c] ?? 1) + (textdet.PPOCR_MEAN[c] ?? 0)) * 255
    rgba[4 * p + 3] = 255
  }
  return rgba
}

const renderTimings = (timings: Readonly<Record<string, number>>, runtime: string, backend: string, views: number, calls: number): void => {
  const body = $('timings').querySelector('tbody')
  if (body === null) return
  const rows = [
    ...Object.entries(timings).map(([k, v]) => [k, `${v.toFixed(1)} ms`]),
    ['views · model calls', `${views} · ${calls}`],
    ['model runs on', runtime],
    ['kernels run on', backend],
  ]
  body.replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr')
    const a = document.createElement('td')
    a.textContent = k ?? ''
    const b = document.createElement('td')
    b.textContent = v ?? ''
    tr.append(a, b)
    return tr
  }))
}

// ---------------------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------------------

const syncModels = (): void => {
  const models = select('model')
  const kind = currentPicture === undefined ? 'fashion' : sampleById(currentPicture.from)?.kind
  const offered = MODELS.filter((m) => kind === undefined || m.kind === kind)
  const previous = models.value
  const options = [...offered, ...(customModel === undefined ? [] : [customModel])]
  models.replaceChildren(...options.map((m) => new Option(m.title, m.id)))
  if (options.some((m) => m.id === previous)) models.value = previous
}

const runFromControls = async (): Promise<void> => {
  const button = $('run')
  if (!(button instanceof HTMLButtonElement)) return
  button.disabled = true
  try {
    await run()
  } catch (e) {
    say('error', `The run failed: ${describe(e)}`)
  } finally {
    button.disabled = false
  }
}

const onImageFile = async (file: File): Promise<void> => {
  clearMessages()
  try {
    currentPicture = { picture: await decodePicture(file), from: 'file', maxSide: 960 }
    say('info', `Using your image ${file.name} (${currentPicture.picture.width}×${currentPicture.picture.height}).`)
  } catch (e) {
    say('error', `Your image ${file.name} could not be decoded (${describe(e)}); keeping the previous input.`)
  }
}

const onModelFile = async (file: File): Promise<void> => {
  clearMessages()
  const bytes = new Uint8Array(await file.arrayBuffer())
  const opened = await onnx.open(bytes, {}, { providers: ['wasm'] })()
  if (E.isLeft(opened)) {
    say('error', `${file.name} is not an ONNX model this page can use (${opened.left.message}); keeping the bundled models.`)
    return
  }
  const output = opened.right.signature.output ?? []
  await opened.right.release()
  const task: Task = output.length === 2 ? 'classification' : 'segmentation'
  customModel = { id: 'custom', title: `your model ${file.name} (${task})`, kind: 'custom', task, source: bytes }
  for (const key of modelCache.keys()) if (key.startsWith('custom|')) modelCache.delete(key)
  syncModels()
  select('model').value = 'custom'
  say('info', `Loaded ${file.name}: input [${opened.right.signature.input?.join(',') ?? '?'}], output [${output.join(',')}], run as ${task}.`)
}

const showBench = (rows: readonly BenchRow[], about: string): void => {
  $('bench-result').hidden = false
  $('bench-about').textContent = about
  const body = $('bench-table').querySelector('tbody')
  body?.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr')
    for (const [value, num] of [[r.what, false], [r.ranOn, false], [r.ms.toFixed(1), true], [String(r.runs), true], [r.ratio, true]] as const) {
      const td = document.createElement('td')
      td.textContent = value
      if (num) td.className = 'num'
      tr.append(td)
    }
    return tr
  }))
}

const bench = async (): Promise<readonly BenchRow[]> => {
  clearMessages()
  say('info', 'Benchmarking: d4 augment of 1×3×512×512 on each kernels backend, then unetish_512 on each onnxruntime-web provider…')
  const rows = await runBenchmark((level, text) => say(level, text))
  showBench(rows, `${navigator.userAgent}. A software GPU (SwiftShader) shows up as "SwiftShader" in the WebGL2 renderer or a "fallback" WebGPU adapter: numbers there say nothing about hardware GPUs.`)
  return rows
}

const init = async (): Promise<void> => {
  const manifest: unknown = await (await fetch('samples.json')).json()
  const list: unknown = typeof manifest === 'object' && manifest !== null ? Reflect.get(manifest, 'samples') : undefined
  const names: unknown = typeof manifest === 'object' && manifest !== null ? Reflect.get(manifest, 'classes') : undefined
  samples = Array.isArray(list) ? list.filter((s): s is Sample => typeof s === 'object' && s !== null && typeof Reflect.get(s, 'id') === 'string') : []
  classes = Array.isArray(names) ? names.map(String) : []
  const sampleSelect = select('sample')
  for (const kind of ['fashion', 'text'] as const) {
    const group = document.createElement('optgroup')
    group.label = kind === 'fashion' ? 'Fashion-MNIST (classification)' : 'Text photos (detection)'
    group.append(...samples.filter((s) => s.kind === kind).map((s) => new Option(s.title, s.id)))
    sampleSelect.append(group)
  }
  syncModels()
  sampleSelect.addEventListener('change', () => {
    currentPicture = undefined
    const kind = sampleById(sampleSelect.value)?.kind
    const models = select('model')
    models.replaceChildren(...MODELS.filter((m) => m.kind === kind).map((m) => new Option(m.title, m.id)), ...(customModel === undefined ? [] : [new Option(customModel.title, 'custom')]))
  })
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault()
    void runFromControls()
  })
  $('bench').addEventListener('click', () => {
    void bench().catch((e: unknown) => say('error', `The benchmark failed: ${describe(e)}`))
  })
  $('image-file').addEventListener('change', (event) => {
    const file = event.target instanceof HTMLInputElement ? event.target.files?.[0] : undefined
    if (file !== undefined) void onImageFile(file)
  })
  $('model-file').addEventListener('change', (event) => {
    const file = event.target instanceof HTMLInputElement ? event.target.files?.[0] : undefined
    if (file !== undefined) void onModelFile(file)
  })
}

/** What the browser tests drive. */
declare global {
  interface Window {
    ttaDemo: {
      readonly ready: Promise<number>
      readonly run: (options?: RunOptions) => Promise<RunSummary>
      readonly bench: () => Promise<readonly BenchRow[]>
      readonly messages: () => readonly { readonly level: Level; readonly text: string }[]
    }
  }
}

window.ttaDemo = {
  ready: init().then(() => performance.now(), (e: unknown) => {
    say('error', `The page could not start: ${describe(e)}`)
    return performance.now()
  }),
  run: (options) => run(options).catch((e: unknown) => {
    say('error', `The run failed: ${describe(e)}`)
    throw e
  }),
  bench,
  messages: () => [...messageLog],
}
