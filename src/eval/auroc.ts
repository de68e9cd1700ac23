/**
 * Area under the ROC curve: how well a score ranks positives above negatives — here, how well an
 * uncertainty measure flags a model's errors (1 = every error is more uncertain than every right
 * answer, 0.5 = no better than chance).
 *
 * @since 0.4.0
 */

/**
 * AUROC of `scores` for the items marked positive, with ties counted half (the Mann–Whitney U
 * statistic over positives × negatives); `NaN` when either group is empty.
 * @example
 * import { auroc } from 'tta-lens'
 * assert.strictEqual(auroc([0.9, 0.8, 0.1, 0.2], [true, true, false, false]), 1)
 * assert.strictEqual(auroc([0.1, 0.2, 0.9, 0.8], [true, true, false, false]), 0)
 * assert.strictEqual(auroc([0.5, 0.5], [true, false]), 0.5)
 * assert.ok(Number.isNaN(auroc([0.3], [true])))
 * @category statistics
 */
export const auroc = (scores: ArrayLike<number>, positive: ArrayLike<boolean>): number => {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0))
  let positives = 0
  let rankSum = 0
  for (let start = 0; start < order.length;) {
    let end = start
    while (end + 1 < order.length && (scores[order[end + 1] ?? 0] ?? 0) === (scores[order[start] ?? 0] ?? 0)) end++
    const midrank = (start + end) / 2 + 1
    for (let k = start; k <= end; k++) {
      if (positive[order[k] ?? 0] === true) { positives++; rankSum += midrank }
    }
    start = end + 1
  }
  const negatives = order.length - positives
  if (positives === 0 || negatives === 0) return Number.NaN
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}
