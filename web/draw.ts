/**
 * Drawing for the demo page: pictures and maps onto canvases, boxes over a photo, and small
 * helpers (softmax, float arrays as base64 for the browser tests).
 */

/** Decoded pixels, RGBA, row-major. */
export interface Picture {
  readonly rgba: Uint8ClampedArray
  readonly width: number
  readonly height: number
}

const canvasOf = (width: number, height: number): { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D } => {
  const canvas = document.createElement('canvas')
  canvas.width = width
  canvas.height = height
  const context = canvas.getContext('2d')
  if (context === null) throw new Error('no 2D canvas in this browser')
  return { canvas, context }
}

/** RGBA pixels on a canvas, shown at `scale` of their size. */
export const pictureCanvas = (rgba: Uint8ClampedArray, width: number, height: number, scale: number): HTMLCanvasElement => {
  const { canvas, context } = canvasOf(width, height)
  context.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0)
  canvas.style.width = `${Math.round(width * scale)}px`
  return canvas
}

/** A colour ramp from black through blue and orange to pale yellow (readable in grey print too), as a 256-entry table. */
const RAMP: Uint8ClampedArray = (() => {
  const stops: readonly (readonly [number, number, number, number])[] = [[0, 0, 0, 4], [0.35, 60, 40, 160], [0.7, 230, 110, 40], [1, 255, 250, 200]]
  const table = new Uint8ClampedArray(256 * 3)
  for (let k = 0; k < 256; k++) {
    const x = k / 255
    const i = Math.max(1, stops.findIndex(([t]) => x <= t))
    const [t0, r0, g0, b0] = stops[i - 1] ?? [0, 0, 0, 0]
    const [t1, r1, g1, b1] = stops[i] ?? [1, 255, 255, 255]
    const f = (x - t0) / (t1 - t0)
    table[3 * k] = r0 + f * (r1 - r0)
    table[3 * k + 1] = g0 + f * (g1 - g0)
    table[3 * k + 2] = b0 + f * (b1 - b0)
  }
  return table
})()

/** A map of values (0..max) as a heat or grey picture; `channels` set: an RGB float image in 0..1. */
export const heatCanvas = (values: Float32Array, width: number, height: number, options: { readonly zoom: number; readonly grey: boolean; readonly max?: number; readonly channels?: Float32Array | undefined }): HTMLCanvasElement => {
  const { canvas, context } = canvasOf(width, height)
  const image = context.createImageData(width, height)
  const max = options.max ?? 1
  const plane = width * height
  for (let p = 0; p < plane; p++) {
    const v = Math.min(1, Math.max(0, (values[p] ?? 0) / max))
    if (options.channels !== undefined) {
      for (let c = 0; c < 3; c++) image.data[4 * p + c] = (options.channels[c * plane + p] ?? 0) * 255
    } else if (options.grey) {
      image.data[4 * p] = image.data[4 * p + 1] = image.data[4 * p + 2] = v * 255
    } else {
      const k = 3 * Math.round(v * 255)
      image.data[4 * p] = RAMP[k] ?? 0
      image.data[4 * p + 1] = RAMP[k + 1] ?? 0
      image.data[4 * p + 2] = RAMP[k + 2] ?? 0
    }
    image.data[4 * p + 3] = 255
  }
  context.putImageData(image, 0, 0)
  canvas.style.width = `${Math.round(width * options.zoom)}px`
  return canvas
}

/** Draws boxes `[x0, y0, x1, y1]` (pixels) over a canvas. */
export const drawBoxes = (canvas: HTMLCanvasElement, boxes: readonly (readonly [number, number, number, number])[]): void => {
  const context = canvas.getContext('2d')
  if (context === null) return
  context.lineWidth = Math.max(2, canvas.width / 320)
  context.strokeStyle = '#ff2d55'
  for (const [x0, y0, x1, y1] of boxes) context.strokeRect(x0, y0, x1 - x0, y1 - y0)
}

/** Softmax of logits. */
export const softmax = (logits: Float32Array): Float32Array => {
  const top = Math.max(...logits)
  const exp = logits.map((v) => Math.exp(v - top))
  const sum = exp.reduce((a, b) => a + b, 0)
  return exp.map((v) => v / sum)
}

/** A float32 array's bytes as base64 (what the browser tests read back). */
export const base64Floats = (data: Float32Array): string => {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text)
}
