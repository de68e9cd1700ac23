#!/usr/bin/env python3
"""Make the tiny, fixed-weight ONNX models that tta-lens's test suite runs.

What it makes (in spec/fixtures/models/, plus a README.md describing them):

  seg_conv1x1_sigmoid.onnx  image [N,3,H,W] -> mask [N,2,H,W] = sigmoid(conv2d(x, W1, b1))
  cls_gap_softmax.onnx      image [N,3,H,W] -> probs [N,5] = softmax(mean_{H,W}(x) @ Wc^T + bc)
  kp_softargmax.onnx        image [N,3,H,W] -> keypoints [N,8] = soft-argmax of beta*conv2d(x, Wk, bk),
                            (x1,y1,...,x4,y4) normalised to [0,1] (the golden's kp_softargmax_scaled)
  seg_two_outputs.onnx      image [N,3,H,W] -> mask [N,2,H,W] = sigmoid(conv2d(x, W3, b3, padding=1)),
                                               aux  [N,1]     = mean of x over C,H,W
  seg_fixed_1x3x8x8.onnx    the conv1x1 model with no dynamic axes: [1,3,8,8] -> [1,2,8,8]
  seg_fixed_1x3x8x12.onnx   the same, [1,3,8,12] -> [1,2,8,12] (non-square, so a 90 degree turn of
                            the input no longer fits the model)

N, H and W are dynamic axes (named "N", "H", "W") in all but the two fixed models.
Opset 13, float32. The weights are not trained: they are the fixed weights in the golden file's
`models.params` (exact binary fractions, so exact in float32), read from
/work/shared/golden/ttach_public.json, or spec/fixtures/ttach_public.json when that is absent
(or from the file given with --golden).

How to run it (from the repository root; it needs PyTorch, nothing else -- not the `onnx` package):

    OMP_NUM_THREADS=2 /usr/bin/python3 tools/models/make_test_models.py

Options: --golden PATH (weights file), --out DIR (default spec/fixtures/models), --check (export
to a temporary folder and compare byte for byte with the files in --out; exit 1 on a difference).

The export is deterministic for a given PyTorch version: running it twice gives identical bytes.
Another PyTorch version may write different bytes (producer_version, node names, graph layout)
for models that compute the same thing.

This script is only for regenerating test fixtures. The library itself never needs Python: the
.onnx files are committed, and the tests load them with onnxruntime-node.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
GOLDEN_CANDIDATES = [
    Path("/work/shared/golden/ttach_public.json"),
    REPO / "spec" / "fixtures" / "ttach_public.json",
]
DEFAULT_OUT = REPO / "spec" / "fixtures" / "models"
OPSET = 13
DYN_IMAGE = {0: "N", 2: "H", 3: "W"}


# --------------------------------------------------------------------------------------------
# weights


def find_golden(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    for p in GOLDEN_CANDIDATES:
        if p.is_file():
            return p
    sys.exit("no golden file: looked for " + ", ".join(str(p) for p in GOLDEN_CANDIDATES))


def load_params(golden: Path) -> dict[str, torch.Tensor]:
    with open(golden, encoding="utf-8") as f:
        params = json.load(f)["models"]["params"]
    out = {}
    for name, t in params.items():
        # float64 first, then float32: the values are exact binary fractions, so nothing is rounded
        v = torch.tensor(t["data"], dtype=torch.float64).reshape(t["shape"]).to(torch.float32)
        if not torch.equal(v.double(), torch.tensor(t["data"], dtype=torch.float64).reshape(t["shape"])):
            sys.exit(f"weight {name} is not exact in float32")
        out[name] = v
    return out


# --------------------------------------------------------------------------------------------
# models


class SegConv1x1Sigmoid(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.register_buffer("W1", p["W1"])
        self.register_buffer("b1", p["b1"])

    def forward(self, image):
        return torch.sigmoid(F.conv2d(image, self.W1, self.b1))


class ClsGapSoftmax(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.register_buffer("Wc", p["Wc"])
        self.register_buffer("bc", p["bc"])

    def forward(self, image):
        g = image.mean(dim=(2, 3))  # [N,3]
        return torch.softmax(F.linear(g, self.Wc, self.bc), dim=1)


class KpSoftargmax(torch.nn.Module):
    """heat = beta * conv2d(x, Wk, bk); p = softmax over the H*W pixels of each of the 4 maps;
    x_k = sum p * (j+0.5)/W, y_k = sum p * (i+0.5)/H; output [x1,y1,...,x4,y4]."""

    def __init__(self, p):
        super().__init__()
        self.register_buffer("Wk", p["Wk"])
        self.register_buffer("bk", p["bk"])
        self.register_buffer("beta", p["beta"])

    def forward(self, image):
        heat = F.conv2d(image, self.Wk, self.bk) * self.beta  # [N,4,H,W]
        # pixel-centre coordinates built from the input itself (no shape arithmetic to trace):
        ones = torch.ones_like(image[:, :1])  # [N,1,H,W]
        gx = (ones.cumsum(3) - 0.5) / ones.sum(3, keepdim=True)  # (j+0.5)/W
        gy = (ones.cumsum(2) - 0.5) / ones.sum(2, keepdim=True)  # (i+0.5)/H
        p = torch.softmax(heat.flatten(2), dim=2)  # [N,4,H*W]
        x = (p * gx.flatten(2)).sum(2)  # [N,4]
        y = (p * gy.flatten(2)).sum(2)  # [N,4]
        # reshape(-1, 8), not flatten(1): with flatten(1) the exported output's second dim is a
        # symbolic "Flattenkeypoints_dim_1" instead of 8
        return torch.stack((x, y), dim=2).reshape(-1, 8)  # [N,8]


class SegTwoOutputs(torch.nn.Module):
    def __init__(self, p):
        super().__init__()
        self.register_buffer("W3", p["W3"])
        self.register_buffer("b3", p["b3"])

    def forward(self, image):
        mask = torch.sigmoid(F.conv2d(image, self.W3, self.b3, padding=1))
        aux = image.mean(dim=(1, 2, 3), keepdim=True).flatten(1)  # [N,1]
        return mask, aux


# name -> (module class, trace input shape, output names, dynamic axes or None, description)
SPECS = [
    ("seg_conv1x1_sigmoid", SegConv1x1Sigmoid, [2, 3, 6, 10], ["mask"],
     {"image": DYN_IMAGE, "mask": {0: "N", 2: "H", 3: "W"}},
     "mask = sigmoid(conv2d(image, W1, b1)), W1 [2,3,1,1]. The golden's seg_conv1x1_sigmoid."),
    ("cls_gap_softmax", ClsGapSoftmax, [2, 3, 6, 10], ["probs"],
     {"image": DYN_IMAGE, "probs": {0: "N"}},
     "probs = softmax(mean_{H,W}(image) @ Wc^T + bc, dim=1), Wc [5,3]. The golden's cls_gap_softmax."),
    ("kp_softargmax", KpSoftargmax, [2, 3, 6, 10], ["keypoints"],
     {"image": DYN_IMAGE, "keypoints": {0: "N"}},
     "heat = beta*conv2d(image, Wk, bk) (beta=4, Wk [4,3,1,1]); p = softmax of each heat map over "
     "its H*W pixels; x_k = sum p*(j+0.5)/W, y_k = sum p*(i+0.5)/H; keypoints = [x1,y1,...,x4,y4] "
     "in [0,1]. The golden's kp_softargmax_scaled."),
    ("seg_two_outputs", SegTwoOutputs, [2, 3, 6, 10], ["mask", "aux"],
     {"image": DYN_IMAGE, "mask": {0: "N", 2: "H", 3: "W"}, "aux": {0: "N"}},
     "mask = sigmoid(conv2d(image, W3, b3, padding=1)), W3 [2,3,3,3]; aux = mean of image over C,H,W."),
    ("seg_fixed_1x3x8x8", SegConv1x1Sigmoid, [1, 3, 8, 8], ["mask"], None,
     "seg_conv1x1_sigmoid with every axis fixed."),
    ("seg_fixed_1x3x8x12", SegConv1x1Sigmoid, [1, 3, 8, 12], ["mask"], None,
     "seg_conv1x1_sigmoid with every axis fixed; non-square, so a 90 degree turn does not fit."),
]


def build(name: str, params) -> torch.nn.Module:
    for n, cls, *_ in SPECS:
        if n == name:
            return cls(params).eval()
    raise KeyError(name)


def export_bytes(model: torch.nn.Module, shape, output_names, dynamic_axes) -> bytes:
    buf = io.BytesIO()
    dummy = torch.zeros(shape, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy,),
            buf,
            input_names=["image"],
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
            export_params=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    return buf.getvalue()


def shape_str(shape, dyn: dict | None, outshape) -> str:
    dims = [str(d) for d in outshape]
    if dyn:
        for i, n in dyn.items():
            dims[i] = n
    return "[" + ",".join(dims) + "]"


# --------------------------------------------------------------------------------------------


def make_all(out: Path, params, golden: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, cls, shape, onames, dyn, desc in SPECS:
        model = cls(params).eval()
        data = export_bytes(model, shape, onames, dyn)
        (out / f"{name}.onnx").write_bytes(data)
        with torch.no_grad():
            res = model(torch.zeros(shape))
        res = res if isinstance(res, tuple) else (res,)
        ins = [f"image {shape_str(shape, dyn and dyn['image'], shape)}"]
        outs = [f"{o} {shape_str(None, dyn and dyn.get(o), list(r.shape))}" for o, r in zip(onames, res)]
        rows.append(dict(file=f"{name}.onnx", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         inputs=ins, outputs=outs, desc=desc))
    write_readme(out, rows)
    return rows


def write_readme(out: Path, rows) -> None:
    lines = [
        "# Test models",
        "",
        "Tiny fixed-weight ONNX models for the test suite (opset 13, float32, a few KB each). They are",
        "not trained: the weights are the fixed ones in the golden file's `models.params` (exact binary",
        "fractions), so their outputs can be compared with the golden `model_outputs`.",
        "",
        "Made by `tools/models/make_test_models.py` "
        f"(PyTorch {torch.__version__}, `torch.onnx.export`, opset {OPSET}); regenerate with",
        "",
        "```sh",
        "OMP_NUM_THREADS=2 /usr/bin/python3 tools/models/make_test_models.py          # rewrite",
        "OMP_NUM_THREADS=2 /usr/bin/python3 tools/models/make_test_models.py --check  # compare bytes",
        "```",
        "",
        "The same PyTorch version reproduces the files byte for byte. The library never needs Python;",
        "the tests load these files with onnxruntime-node.",
        "",
        "Weights: `models.params` of `/work/shared/golden/ttach_public.json` (or",
        "`spec/fixtures/ttach_public.json`); the models are the golden's `models.description`.",
        "",
        "`N`, `H`, `W` are dynamic axes (symbolic dimensions with those names); numbers are fixed.",
        "onnxruntime-node reports them as they are stored: `session.inputMetadata[0].shape` is",
        "`['N', 3, 'H', 'W']` (strings for symbolic dims, numbers for fixed ones).",
        "",
        "| file | inputs | outputs | bytes | computes |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for r in rows:
        lines.append(f"| `{r['file']}` | {', '.join('`'+s+'`' for s in r['inputs'])} | "
                     f"{', '.join('`'+s+'`' for s in r['outputs'])} | {r['size']} | {r['desc']} |")
    lines += [
        "",
        "SHA-256:",
        "",
        "```",
        *[f"{r['sha256']}  {r['file']}" for r in rows],
        "```",
        "",
        "Licence: MIT, the project's own licence (the weights are made-up numbers from the project's",
        "golden file, not from any trained model).",
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--golden")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    torch.manual_seed(0)
    golden = find_golden(a.golden)
    params = load_params(golden)
    out = Path(a.out)
    if not a.check:
        for r in make_all(out, params, golden):
            print(f"{r['size']:6d}  {out / r['file']}")
        print(f"         {out / 'README.md'}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        rows = make_all(Path(tmp), params, golden)
        bad = 0
        for r in rows + [dict(file="README.md")]:
            new = (Path(tmp) / r["file"]).read_bytes()
            old_p = out / r["file"]
            same = old_p.is_file() and old_p.read_bytes() == new
            bad += not same
            print(("same     " if same else "DIFFERENT") + f"  {old_p}")
        return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
