/**
 * `tta-lens/node`: the Node.js edge of tta-lens. What belongs here: everything that needs Node —
 * its built-ins (files, paths, zlib, crypto), or a package that runs only in Node (onnxruntime-node,
 * sharp). Each export is a thin adapter around the core in `tta-lens` (src/index.ts), which stays
 * free of Node so that it also runs in browsers; the browser's edge is `tta-lens/web`.
 *
 * @packageDocumentation
 */
export { PACKAGE_ROOT, assetPath, packageVersion } from './io/package.js'
