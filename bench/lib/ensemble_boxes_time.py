"""Times ensemble-boxes on the input bench/sections/fusion.ts writes (optional; see that file).

    /usr/bin/python3 bench/lib/ensemble_boxes_time.py /path/to/Weighted-Boxes-Fusion input.json

Prints JSON: {"versions": {...}, "results": [{"name", "median", "min", "boxes"}]} with times in ms.
"""
import json
import statistics
import sys
import time
import warnings


def main():
    checkout, input_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, checkout)
    import numpy as np
    import ensemble_boxes as eb
    try:
        import numba
        numba_version = numba.__version__
    except ImportError:
        numba_version = None
    with open(input_path) as f:
        spec = json.load(f)
    boxes = [v['boxes'] for v in spec['views']]
    scores = [v['scores'] for v in spec['views']]
    labels = [v['labels'] for v in spec['views']]
    functions = {
        'wbf': eb.weighted_boxes_fusion,
        'nms': eb.nms,
        'soft_nms': eb.soft_nms,
        'nmw': eb.non_maximum_weighted,
    }
    results = []
    warnings.simplefilter('ignore')
    for call in spec['calls']:
        f = functions[call['function']]
        params = call['params']
        out = None
        for _ in range(3):
            out = f(boxes, scores, labels, **params)
        samples = []
        for _ in range(spec['rounds']):
            start = time.perf_counter()
            f(boxes, scores, labels, **params)
            samples.append((time.perf_counter() - start) * 1000)
        results.append({'name': call['name'], 'median': statistics.median(samples), 'min': min(samples), 'boxes': len(out[0])})
    print(json.dumps({'versions': {'numpy': np.__version__, 'numba': numba_version, 'python': sys.version.split()[0]}, 'results': results}))


if __name__ == '__main__':
    main()
