/**
 * The demo's visual report (`report/index.html` and its PNGs), and the pieces to make one.
 *
 * A report is a title, an introduction and a list of {@link Section}s, each shown in order as: a
 * heading, the model its numbers and pictures come from, a note, its tables, then its pictures in
 * a grid, each with a caption that says what the picture shows. To add a section, build a
 * `Section` and push it onto the list the demo hands to {@link writeReport}: nothing else changes.
 * {@link overlayPng} draws a probability map (tinted) and boxes (outlined) over a photo — the place
 * for detections' boxes — and {@link heatPng} a map in a colour ramp with its scale; {@link mapPng}
 * keeps the plain grey map. The page is laid out for 1280 px (a browser test screenshots it there).
 *
 * @since 0.3.0
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { FileError } from '../errors.js'
import { encodePng, greyFromMap, writeAtomic } from '../io/image.js'

/** One picture and its caption. @category model */
export interface Panel {
  /** What the picture shows, in a sentence a reader needs no other text for. */
  readonly caption: string
  readonly png: Uint8Array
  /** `'wide'`: a photo-sized picture, two to a row; default: a tile, several to a row. */
  readonly size?: 'wide'
}

/** A table, as the terminal prints it but with its cells kept apart. @category model */
export interface ReportTable {
  readonly caption: string
  readonly header: readonly string[]
  readonly rows: readonly (readonly string[])[]
  /** Lines under the table (what a column means, the control to compare against). */
  readonly notes?: readonly string[]
}

/** One section of the report. @category model */
export interface Section {
  readonly title: string
  readonly note: string
  /** The model behind the section's numbers and pictures (file and what it is). */
  readonly model?: string
  readonly tables?: readonly ReportTable[]
  /** Pictures, in reading order (may be empty). */
  readonly panels: readonly Panel[]
}

/** The first reports' name for a section of pictures. @category model */
export type Figure = Section

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:1.2em 1.5em 3em;max-width:1240px;color:#1b1b1b}
h1{margin:.2em 0 .3em}h2{margin:1.8em 0 .3em;font-size:1.25em;border-top:1px solid #dde;padding-top:.8em}
p.model{margin:.2em 0;color:#333}p.model b{font-weight:600}p.note{margin:.3em 0 .8em;max-width:75em}
table{border-collapse:collapse;margin:.6em 0 .2em;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.2em 0}
th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}th{border-bottom:2px solid #999}
ul.notes{margin:.2em 0 .8em;padding-left:1.2em;color:#444;font-size:.92em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:14px 12px;margin-top:.6em}
figure{margin:0}figure.wide{grid-column:span 2}
figure img{width:100%;height:auto;image-rendering:pixelated;border:1px solid #bbb;display:block}
figcaption{font-size:13px;color:#333;margin-top:.3em}
`

/** The report as one HTML page; `image(s, p)` names the PNG of panel `p` of section `s`. @category destructors */
export const renderReport = (title: string, intro: string, sections: readonly Section[], image: (section: number, panel: number) => string): string => {
  const body = sections.map((section, s) => {
    const tables = (section.tables ?? []).map((t) => [
      `<table><caption>${escape(t.caption)}</caption>`,
      `<thead><tr>${t.header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr></thead>`,
      `<tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      (t.notes ?? []).length > 0 ? `<ul class="notes">${(t.notes ?? []).map((n) => `<li>${escape(n)}</li>`).join('')}</ul>` : '',
    ].join('')).join('\n')
    const panels = section.panels.map((panel, p) =>
      `<figure${panel.size === 'wide' ? ' class="wide"' : ''}><img src="${image(s, p)}" alt="${escape(panel.caption)}"><figcaption>${escape(panel.caption)}</figcaption></figure>`).join('')
    return [
      `<section><h2>${escape(section.title)}</h2>`,
      section.model === undefined ? '' : `<p class="model"><b>Model:</b> ${escape(section.model)}</p>`,
      `<p class="note">${escape(section.note)}</p>`,
      tables,
      panels === '' ? '' : `<div class="grid">${panels}</div>`,
      '</section>',
    ].join('\n')
  })
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(intro)}</p>
${body.join('\n')}
</body></html>
`
}

/** Writes `index.html` and its PNGs into `dir`; returns the number of images written. @category destructors */
export const writeReport = async (dir: string, title: string, intro: string, sections: readonly Section[]): Promise<E.Either<FileError, number>> => {
  await mkdir(dir, { recursive: true })
  let count = 0
  const name = (s: number, p: number): string => `section${s}-panel${p}.png`
  for (const [s, section] of sections.entries()) {
    for (const [p, panel] of section.panels.entries()) {
      const written = await writeAtomic(join(dir, name(s, p)), panel.png)
      if (E.isLeft(written)) return written
      count++
    }
  }
  return E.Functor.map(await writeAtomic(join(dir, 'index.html'), renderReport(title, intro, sections, name)), () => count)
}

/** A float map (values 0..1) as a PNG, nearest-upscaled by `zoom`. @category destructors */
export const mapPng = (values: Float32Array, height: number, width: number, zoom = 1, lo = 0, hi = 1): Promise<Uint8Array> => {
  const grey = greyFromMap(values, lo, hi)
  if (zoom === 1) return encodePng(grey, height, width, 1)
  const big = new Uint8Array(height * zoom * width * zoom)
  for (let i = 0; i < height * zoom; i++) for (let j = 0; j < width * zoom; j++) big[i * width * zoom + j] = grey[Math.floor(i / zoom) * width + Math.floor(j / zoom)] ?? 0
  return encodePng(big, height * zoom, width * zoom, 1)
}

/** Black → violet → orange → pale yellow: dark is "nothing", bright is "a lot", also in grey print. */
const rampAt = (t: number): readonly [number, number, number] => {
  const stops: readonly (readonly [number, number, number, number])[] = [[0, 0, 0, 4], [0.35, 60, 40, 160], [0.7, 230, 110, 40], [1, 255, 250, 200]]
  const x = Math.min(1, Math.max(0, t))
  const i = Math.max(1, stops.findIndex(([s]) => x <= s))
  const [t0, r0, g0, b0] = stops[i - 1] ?? [0, 0, 0, 0]
  const [t1, r1, g1, b1] = stops[i] ?? [1, 255, 255, 255]
  const f = (x - t0) / (t1 - t0)
  return [r0 + f * (r1 - r0), g0 + f * (g1 - g0), b0 + f * (b1 - b0)]
}

/**
 * A float map as a colour-ramp PNG (black = `lo`, pale yellow = `hi` or more), nearest-upscaled by
 * `zoom`; `width` is the map's row length, `cropHeight`×`cropWidth` the part shown (a padded map).
 * @category destructors
 */
export const heatPng = (values: Float32Array, height: number, width: number, options: { readonly lo?: number; readonly hi?: number; readonly zoom?: number; readonly cropHeight?: number; readonly cropWidth?: number } = {}): Promise<Uint8Array> => {
  const { lo = 0, hi = 1, zoom = 1 } = options
  const h = options.cropHeight ?? height
  const w = options.cropWidth ?? width
  const out = new Uint8Array(h * zoom * w * zoom * 3)
  for (let i = 0; i < h * zoom; i++) {
    for (let j = 0; j < w * zoom; j++) {
      const v = values[Math.floor(i / zoom) * width + Math.floor(j / zoom)] ?? 0
      const [r, g, b] = rampAt((v - lo) / (hi - lo))
      const o = 3 * (i * w * zoom + j)
      out[o] = r
      out[o + 1] = g
      out[o + 2] = b
    }
  }
  return encodePng(out, h * zoom, w * zoom, 3)
}

/** A box to outline on a photo: `[x0, y0, x1, y1]` in pixels, and whose it is. @category model */
export interface OverlayBox {
  readonly box: readonly [number, number, number, number]
  /** `'found'`: the model's (magenta); `'truth'`: the ground truth (green). */
  readonly kind: 'found' | 'truth'
}

/**
 * A photo (8-bit RGB) with a probability map tinted over it and boxes outlined: where the map is
 * above `threshold` the photo turns towards cyan in proportion to the probability. The map may be
 * larger than the photo (a padded model input): `maskWidth` is its row length.
 * @category destructors
 */
export const overlayPng = (rgb: Uint8Array, height: number, width: number, options: {
  readonly mask?: Float32Array
  readonly maskWidth?: number
  readonly threshold?: number
  readonly boxes?: readonly OverlayBox[]
} = {}): Promise<Uint8Array> => {
  const out = Uint8Array.from(rgb.subarray(0, height * width * 3))
  const { mask, threshold = 0.3 } = options
  const stride = options.maskWidth ?? width
  if (mask !== undefined) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = mask[y * stride + x] ?? 0
        if (p < threshold) continue
        const a = 0.25 + 0.5 * Math.min(1, p)
        const o = 3 * (y * width + x)
        const tint = [0, 200, 255] as const
        for (let c = 0; c < 3; c++) out[o + c] = Math.round((1 - a) * (out[o + c] ?? 0) + a * (tint[c] ?? 0))
      }
    }
  }
  const line = Math.max(2, Math.round(Math.max(height, width) / 320))
  for (const { box, kind } of options.boxes ?? []) {
    const colour = kind === 'found' ? [255, 0, 170] as const : [40, 220, 60] as const
    const [x0, y0, x1, y1] = box.map((v) => Math.round(v))
    const paint = (x: number, y: number): void => {
      if (x < 0 || y < 0 || x >= width || y >= height) return
      const o = 3 * (y * width + x)
      out[o] = colour[0]
      out[o + 1] = colour[1]
      out[o + 2] = colour[2]
    }
    for (let k = 0; k < line; k++) {
      for (let x = (x0 ?? 0); x <= (x1 ?? 0); x++) { paint(x, (y0 ?? 0) + k); paint(x, (y1 ?? 0) - k) }
      for (let y = (y0 ?? 0); y <= (y1 ?? 0); y++) { paint((x0 ?? 0) + k, y); paint((x1 ?? 0) - k, y) }
    }
  }
  return encodePng(out, height, width, 3)
}

/** Per-pixel standard deviation across equally sized maps. @category utils */
export const disagreement = (maps: readonly Float32Array[]): Float32Array => {
  const n = maps.length
  const size = maps[0]?.length ?? 0
  const out = new Float32Array(size)
  for (let p = 0; p < size; p++) {
    let mean = 0
    for (const m of maps) mean += m[p] ?? 0
    mean /= n
    let sq = 0
    for (const m of maps) sq += ((m[p] ?? 0) - mean) ** 2
    out[p] = Math.sqrt(sq / n)
  }
  return out
}
