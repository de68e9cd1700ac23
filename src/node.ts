/**
 * `tta-lens/node`: the Node.js edge of tta-lens.
 *
 * What belongs here: everything that needs Node — its built-ins (files, paths, zlib, crypto) or a
 * package that runs only in Node (onnxruntime-node, sharp, Dawn). Each export is a thin adapter
 * around the core in `tta-lens` (src/index.ts), which stays free of Node so that it also runs in
 * browsers; the browser's edge is `tta-lens/web` (src/web.ts). Importing this module also lets
 * the core's gpujs backend try WebGPU through Dawn (the `webgpu` package) in Node.
 *
 * @packageDocumentation
 * @module tta-lens/node
 */
import { useDawn } from './backend/gpujs-node.js'

export * as onnx from './backend/onnx.js'
export * as textdet from './textdet/node.js'
export { decodeIdx, readIdx, type IdxArray } from './io/idx.js'
export * as files from './io/files.js'
export * as overlay from './io/overlay.js'
export { PACKAGE_ROOT, assetPath, packageVersion } from './io/package.js'
export { folderStore, fileSha256, readPolicy, writePolicy } from './io/policy-files.js'

useDawn()
