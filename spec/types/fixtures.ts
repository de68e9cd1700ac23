/**
 * Declared values for the type tests: tensors and models that exist only as types. The `*.test-d.ts`
 * files are type-checked, never run, so nothing here needs a value.
 */
import type { Tensor, boxes } from '../../src/index.js'

type Detections = boxes.Detections

/** A rank-4 NCHW image, 4 high and 6 wide (not square, so a 90° turn changes its shape). */
export declare const image: Tensor<readonly [1, 3, 4, 6]>
/** The same pixels without the batch axis: rank 3. */
export declare const image3: Tensor<readonly [3, 4, 6]>
/** An image whose sizes are only known at run time (e.g. from `decode`). */
export declare const anyImage: Tensor<readonly ['N', 3, 'H', 'W']>
/** An 8×8 image, for crops. */
export declare const square: Tensor<readonly [1, 3, 8, 8]>

/** A segmentation model with a fixed 4×6 input and 2 classes. */
export declare const fixedSegmenter: (x: Tensor<readonly ['N', 3, 4, 6]>) => Promise<Tensor<readonly ['N', 2, 4, 6]>>
/** A segmentation model that takes any size and returns 2 classes. */
export declare const segmenter: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 2, 'H', 'W']>>
/** A classifier of any size with 10 classes. */
export declare const classifier: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 10]>>
/** A classifier with a fixed 4×4 input. */
export declare const classifier4x4: (x: Tensor<readonly ['N', 3, 4, 4]>) => Promise<Tensor<readonly ['N', 10]>>
/** A keypoint model: 5 points as (x, y) pairs, `[N, 2K]` with K = 5. */
export declare const pointer: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 10]>>

/** A detection model of any size: one `{ boxes, scores, labels }` per image. */
export declare const boxer: (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<readonly Detections[]>
/** A detection model with a fixed 4×6 input. */
export declare const fixedBoxer: (x: Tensor<readonly ['N', 3, 4, 6]>) => Promise<readonly Detections[]>
/** A 32×32 image, and a segmentation head with stride 2: its masks are 16×16. */
export declare const image32: Tensor<readonly [1, 3, 32, 32]>
export declare const strided: (x: Tensor<readonly ['N', 3, 32, 32]>) => Promise<Tensor<readonly ['N', 2, 16, 16]>>
