"""Supplementary reference cases for box fusion, computed by ensemble-boxes itself.

The public reference file (spec/fixtures/boxes_public.json) has no linear soft-NMS, no coordinates
outside [0, 1], no score ties, no views of weight 0 and no inputs that ensemble-boxes only warns
about. This script computes such cases with the reference and writes them in the same format, for
spec/fixtures/boxes_extra.json (read by spec/boxes/extra.test.ts through the same parity runner).

ensemble-boxes is not part of tta-lens: point --reference at a checkout of
https://github.com/ZFTurbo/Weighted-Boxes-Fusion (the fixture was made with master 96880f3) and
run Debian's Python with python3-numpy and python3-numba:

    /usr/bin/python3 tools/boxes/reference_cases.py --reference /path/to/Weighted-Boxes-Fusion \
        --out spec/fixtures/boxes_extra.json
"""
import argparse
import json
import math
import sys
import warnings


def scene(rng, views, objects, classes, clutter, jitter=0.02, miss=0.2, lo=0.0, hi=1.0):
    """Jittered copies of a few objects seen by each view (some missed), plus clutter."""
    base = []
    for _ in range(objects):
        w, h = rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3)
        x, y = rng.uniform(lo, hi - w), rng.uniform(lo, hi - h)
        base.append(([x, y, x + w, y + h], int(rng.integers(classes))))
    out = []
    for _ in range(views):
        boxes, scores, labels = [], [], []
        for (b, label) in base:
            if rng.random() < miss:
                continue
            d = rng.normal(0, jitter, 4)
            x1, y1, x2, y2 = b[0] + d[0], b[1] + d[1], b[2] + d[2], b[3] + d[3]
            boxes.append([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)])
            scores.append(float(rng.uniform(0.05, 1.0)))
            labels.append(label)
        for _ in range(clutter):
            w, h = rng.uniform(0.01, 0.2), rng.uniform(0.01, 0.2)
            x, y = rng.uniform(lo, hi - w), rng.uniform(lo, hi - h)
            boxes.append([x, y, x + w, y + h])
            scores.append(float(rng.uniform(0.0, 0.6)))
            labels.append(int(rng.integers(classes)))
        order = rng.permutation(len(boxes))
        out.append({
            'boxes': [[float(v) for v in boxes[k]] for k in order],
            'scores': [scores[k] for k in order],
            'labels': [labels[k] for k in order],
        })
    return out


def weights_for(rng, views, zero=False):
    w = [float(rng.integers(1, 4)) for _ in range(views)]
    if zero and views > 1:
        w[int(rng.integers(views))] = 0.0
    return w


def number(v):
    v = float(v)
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    return v


def call(eb, fn, views, params):
    boxes = [v['boxes'] for v in views]
    scores = [v['scores'] for v in views]
    labels = [v['labels'] for v in views]
    f = {
        'wbf': eb.weighted_boxes_fusion,
        'nms': eb.nms,
        'soft_nms': eb.soft_nms,
        'nmw': eb.non_maximum_weighted,
    }[fn]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            b, s, l = f(boxes, scores, labels, **params)
    except BaseException as e:  # exit() raises SystemExit
        return {'error': {'type': type(e).__name__, 'message': str(e)}}
    return {'out': {
        'boxes': [[number(v) for v in row] for row in b.tolist()],
        'scores': [number(v) for v in s.tolist()],
        'labels': [number(v) for v in l.tolist()],
    }}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--reference', required=True, help='checkout of ZFTurbo/Weighted-Boxes-Fusion')
    parser.add_argument('--out', required=True)
    parser.add_argument('--seed', type=int, default=20240607)
    args = parser.parse_args()
    sys.path.insert(0, args.reference)
    import numpy as np
    import ensemble_boxes as eb

    rng = np.random.default_rng(args.seed)
    cases = []

    def add(group, fn, views, params):
        case = {'id': f'{group}-{len(cases)}', 'function': fn, 'params': params, 'views': views}
        # Silence the reference's own prints (warnings about clipping, weights, empty boxes).
        stdout = sys.stdout
        sys.stdout = open('/dev/null', 'w')
        try:
            case.update(call(eb, fn, views, params))
        finally:
            sys.stdout.close()
            sys.stdout = stdout
        cases.append(case)

    def pick(options):
        return options[int(rng.integers(len(options)))]

    iou = [0.3, 0.5, 0.55, 0.7]
    conf = ['avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg']

    # 1. Linear soft-NMS (method 1), which the public file lacks, and soft-NMS with default parameters.
    for k in range(30):
        v = int(rng.integers(1, 6))
        views = scene(rng, v, int(rng.integers(1, 6)), 3, int(rng.integers(0, 4)))
        add('soft_nms-linear', 'soft_nms', views, {
            'weights': weights_for(rng, v) if k % 3 == 0 else None, 'iou_thr': pick(iou),
            'sigma': pick([0.1, 0.5]), 'thresh': pick([0.001, 0.05, 0.2]), 'method': 1})
    for k in range(6):
        add('soft_nms-defaults', 'soft_nms', scene(rng, 3, 4, 2, 2), {})

    # 2. Boxes sticking out of the frame (clipped), lying outside it (dropped), and degenerate ones.
    for fn in ['wbf', 'nms', 'soft_nms', 'nmw']:
        for k in range(6):
            v = int(rng.integers(1, 5))
            views = scene(rng, v, 4, 2, 2, lo=-0.25, hi=1.25)
            if k % 2 == 0 and views[0]['boxes']:
                views[0]['boxes'][0] = [1.05, 0.2, 1.2, 0.4]  # wholly outside: zero area after clipping
                views[0]['boxes'].append([0.3, 0.3, 0.3, 0.5])  # zero width
                views[0]['scores'].append(0.9)
                views[0]['labels'].append(0)
            params = {'wbf': {'iou_thr': pick(iou), 'skip_box_thr': 0.0, 'conf_type': pick(conf)},
                      'nms': {'iou_thr': pick(iou)},
                      'soft_nms': {'iou_thr': pick(iou), 'method': pick([1, 2]), 'thresh': 0.001},
                      'nmw': {'iou_thr': pick(iou), 'skip_box_thr': 0.0}}[fn]
            add('outside', fn, views, params)

    # 3. N identical views: WBF gives each box back with its own score, under every rule.
    for k in range(12):
        n = int(rng.integers(2, 6))
        one = scene(rng, 1, 5, 3, 0, miss=0.0)[0]
        add('copies', 'wbf', [one] * n, {'weights': weights_for(rng, n) if k % 2 else None, 'iou_thr': pick(iou),
                                          'skip_box_thr': 0.0, 'conf_type': conf[k % 4], 'allows_overflow': bool(k % 3 == 0)})

    # 4. Larger views (more than 16 boxes of a class: numpy sorts them with introsort, not insertion sort).
    for fn in ['wbf', 'nms', 'soft_nms', 'nmw']:
        for k in range(3):
            views = scene(rng, 4, 30, 2, 10, miss=0.1)
            params = {'wbf': {'iou_thr': pick(iou), 'conf_type': pick(conf)}, 'nms': {'iou_thr': pick(iou)},
                      'soft_nms': {'iou_thr': pick(iou), 'method': pick([1, 2]), 'sigma': 0.5, 'thresh': 0.01},
                      'nmw': {'iou_thr': pick(iou)}}[fn]
            add('large', fn, views, params)

    # 5. A view of weight 0, and a skip threshold equal to a score (kept: the reference skips score < thr).
    for fn in ['wbf', 'nms', 'nmw']:
        for k in range(4):
            v = int(rng.integers(2, 5))
            views = scene(rng, v, 4, 2, 1)
            w = weights_for(rng, v, zero=True)
            params = {'wbf': {'weights': w, 'iou_thr': pick(iou), 'conf_type': conf[k]}, 'nms': {'weights': w, 'iou_thr': pick(iou)},
                      'nmw': {'weights': w, 'iou_thr': pick(iou)}}[fn]
            add('zero-weight', fn, views, params)
    for fn in ['wbf', 'nmw']:
        for k in range(3):
            views = scene(rng, 3, 4, 2, 1)
            score = next((s for v in views for s in v['scores']), 0.5)
            add('skip-equal', fn, views, {'iou_thr': 0.55, 'skip_box_thr': score, **({'conf_type': conf[k]} if fn == 'wbf' else {})})

    # 6. Every box degenerate (nms and soft_nms raise on no boxes; wbf and nmw answer empty).
    for fn in ['wbf', 'nms', 'soft_nms', 'nmw']:
        add('no-box-left', fn, [{'boxes': [[0.2, 0.2, 0.2, 0.6]], 'scores': [0.7], 'labels': [1]}, {'boxes': [], 'scores': [], 'labels': []}], {})

    # 7. Equal scores (rounded to tenths): ties between views and classes.
    for fn in ['wbf', 'nms', 'soft_nms', 'nmw']:
        for k in range(4):
            views = scene(rng, 3, 4, 2, 2)
            for v in views:
                v['scores'] = [max(0.1, round(s, 1)) for s in v['scores']]
            params = {'wbf': {'iou_thr': pick(iou), 'conf_type': conf[k]}, 'nms': {'iou_thr': pick(iou)},
                      'soft_nms': {'iou_thr': pick(iou), 'method': pick([1, 2]), 'thresh': 0.001}, 'nmw': {'iou_thr': pick(iou)}}[fn]
            add('ties', fn, views, params)

    # 8. Inputs the reference only warns about or exits on (ours: a typed error).
    views = scene(rng, 2, 3, 2, 0, miss=0.0)
    swapped = [dict(v) for v in views]
    swapped[0] = {**views[0], 'boxes': [[b[2], b[1], b[0], b[3]] if i == 0 else b for i, b in enumerate(views[0]['boxes'])]}
    for fn in ['wbf', 'nms', 'nmw']:
        add('invalid-swapped', fn, swapped, {})
        add('invalid-weights', fn, views, {'weights': [1.0, 2.0, 3.0]})
        add('invalid-lengths', fn, [{**views[0], 'scores': views[0]['scores'][:-1]}, views[1]], {})
    add('invalid-conf', 'wbf', views, {'conf_type': 'median'})

    meta = {
        'generator': 'tools/boxes/reference_cases.py (tta-lens)',
        'source': 'ZFTurbo/Weighted-Boxes-Fusion (ensemble_boxes) master 96880f3',
        'numpy': np.__version__,
        'seed': args.seed,
        'conventions': 'as boxes_public.json; NaN and infinities as the strings "NaN", "Infinity", "-Infinity"',
    }
    with open(args.out, 'w') as f:
        json.dump({'meta': meta, 'cases': cases}, f, indent=None, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases written to {args.out}')


if __name__ == '__main__':
    main()
