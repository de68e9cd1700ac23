"""Runs ensemble-boxes on the input bench/sections/fusion.ts writes, one call per request (optional;
see that file), so that its timings interleave with ours.

    /usr/bin/python3 bench/lib/ensemble_boxes_time.py /path/to/Weighted-Boxes-Fusion input.json

First prints one JSON line {"versions": {...}, "boxes": {name: boxes returned}} after 3 warm-up calls
of each method (numba compiles on the first); then, for each method name read from stdin, runs that
call once and prints [wall ms, CPU ms] (time.perf_counter and time.process_time around the call).
An empty line ends it.
"""
import json
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
    warnings.simplefilter('ignore')
    calls = {c['name']: (functions[c['function']], c['params']) for c in spec['calls']}
    counts = {}
    for name, (f, params) in calls.items():
        for _ in range(3):
            out = f(boxes, scores, labels, **params)
        counts[name] = len(out[0])
    versions = {'numpy': np.__version__, 'numba': numba_version, 'python': sys.version.split()[0]}
    print(json.dumps({'versions': versions, 'boxes': counts}), flush=True)
    for line in sys.stdin:
        name = line.strip()
        if name == '':
            break
        f, params = calls[name]
        start, cpu = time.perf_counter(), time.process_time()
        f(boxes, scores, labels, **params)
        print(json.dumps([(time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000]), flush=True)


if __name__ == '__main__':
    main()
