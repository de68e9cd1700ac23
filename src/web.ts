/**
 * `tta-lens/web`: the browser edge of tta-lens.
 *
 * What belongs here: adapters that need a browser runtime or a package made for one —
 * onnxruntime-web (WebGPU and WebAssembly) and, later, other browser-only helpers. Each is a thin
 * edge around the core in `tta-lens` (src/index.ts), which holds everything that runs anywhere
 * (the gpujs backend included: in a browser it runs on WebGPU or WebGL2). Nothing here may import
 * Node (spec/package/entry-points.test.ts checks); Node's edge is `tta-lens/node` (src/node.ts).
 * onnxruntime-web is an optional peer dependency: install it to use this entry point.
 *
 * @packageDocumentation
 * @module tta-lens/web
 */
export * as onnx from './backend/onnx-web.js'
export type { WebProvider, WebOptions } from './backend/onnx-web.js'
