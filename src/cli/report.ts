/**
 * The demo's visual report: one HTML page with PNGs — for a few text images, the input, every
 * view's probability map mapped back into the input's frame, the merged map and a per-pixel
 * disagreement map (the standard deviation across views); for a few Fashion-MNIST images that TTA
 * fixed or broke, every view and what the model said on it.
 *
 * @since 0.3.0
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { FileError } from '../errors.js'
import { encodePng, greyFromMap, writeAtomic } from '../io/image.js'

/** One figure: a titled row of images with captions. @category model */
export interface Figure {
  readonly title: string
  readonly note: string
  readonly panels: readonly { readonly caption: string; readonly png: Uint8Array }[]
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Writes `index.html` and its PNGs into `dir`; returns the number of images written. @category destructors */
export const writeReport = async (dir: string, title: string, intro: string, figures: readonly Figure[]): Promise<E.Either<FileError, number>> => {
  await mkdir(dir, { recursive: true })
  let count = 0
  const sections: string[] = []
  for (const [f, figure] of figures.entries()) {
    const cells: string[] = []
    for (const [p, panel] of figure.panels.entries()) {
      const name = `figure${f}-panel${p}.png`
      const written = await writeAtomic(join(dir, name), panel.png)
      if (E.isLeft(written)) return written
      count++
      cells.push(`<figure><img src="${name}" alt="${escape(panel.caption)}"><figcaption>${escape(panel.caption)}</figcaption></figure>`)
    }
    sections.push(`<section><h2>${escape(figure.title)}</h2><p>${escape(figure.note)}</p><div class="row">${cells.join('')}</div></section>`)
  }
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1400px}.row{display:flex;flex-wrap:wrap;gap:8px}
figure{margin:0}figure img{image-rendering:pixelated;max-width:220px;border:1px solid #ccc}figcaption{font-size:12px;max-width:220px}</style></head>
<body><h1>${escape(title)}</h1><p>${escape(intro)}</p>${sections.join('\n')}</body></html>\n`
  return E.Functor.map(await writeAtomic(join(dir, 'index.html'), html), () => count)
}

/** A float map (values 0..1) as a PNG, nearest-upscaled by `zoom`. @category destructors */
export const mapPng = (values: Float32Array, height: number, width: number, zoom = 1, lo = 0, hi = 1): Promise<Uint8Array> => {
  const grey = greyFromMap(values, lo, hi)
  if (zoom === 1) return encodePng(grey, height, width, 1)
  const big = new Uint8Array(height * zoom * width * zoom)
  for (let i = 0; i < height * zoom; i++) for (let j = 0; j < width * zoom; j++) big[i * width * zoom + j] = grey[Math.floor(i / zoom) * width + Math.floor(j / zoom)] ?? 0
  return encodePng(big, height * zoom, width * zoom, 1)
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
