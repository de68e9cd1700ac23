#!/usr/bin/env python3
"""Train the two small Fashion-MNIST CNNs in assets/fashion-mnist/ and export them to ONNX.

What it makes (in assets/fashion-mnist/ unless --out says otherwise):

  cnn_plain.onnx     trained on the raw training images (no augmentation)
  cnn_aug.onnx       trained with random horizontal flip, random shift of up to +-2 px (zero fill)
                     and random scale 0.95..1.05, drawn per image, applied per batch with torch ops
  training-log.txt   per-epoch train loss / test accuracy / time, final accuracies, training times

Both models: input `image` float32 [N,1,28,28], pixel values 0..1 (the IDX bytes / 255), N dynamic;
output `logits` float32 [N,10] (no softmax). The dataset's mean/std normalisation
((x - mean) / std, both computed from the 60k training images) is a fixed part of the graph.
Class order: T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.

Architecture (about 0.4 M parameters):
  normalise -> conv3x3(1->32)+BN+ReLU -> conv3x3(32->64)+BN+ReLU -> maxpool2        (28 -> 14)
            -> conv3x3(64->128)+BN+ReLU -> maxpool2                                   (14 -> 7)
            -> flatten (6272) -> dropout 0.3 -> fc 6272->48 + ReLU -> dropout 0.3 -> fc 48->10
(BatchNorm is folded into the convolutions by the eval-mode ONNX export.)

Training: AdamW (weight decay 1e-4), batch 128, OneCycle learning-rate schedule (peak 2e-3),
12 epochs, cross-entropy. Both variants start from the same initial weights (same seed) and see the
same shuffling order; the only difference is the augmentation.

How to run it (from the repository root; it needs PyTorch and NumPy, nothing else -- not the
`onnx` package; the data comes from Debian's `dataset-fashion-mnist` package):

    apt-get install -y dataset-fashion-mnist
    OMP_NUM_THREADS=2 /usr/bin/python3 tools/train/train_fashion.py

Options: --variant plain|aug|both (default both), --epochs, --seed, --threads, --data DIR (the
gzipped IDX files), --out DIR, --limit-train/--limit-test N (smoke tests on a subset),
--no-export, --log PATH, --dump-logits PATH (JSON of the final torch logits on the first test
images, for comparing with another runtime).

Determinism: fixed seeds and torch.use_deterministic_algorithms(True); a rerun with the same
PyTorch version and the same thread count should reproduce the same weights. A different thread
count or PyTorch version can change float summation order and so the last digits of the result.

The library itself never needs Python: the .onnx files are committed, and JavaScript loads them
with onnxruntime-node.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = Path("/usr/share/datasets/fashion-mnist")
DEFAULT_OUT = REPO / "assets" / "fashion-mnist"
OPSET = 13
CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]


# --------------------------------------------------------------------------------------------
# Data


def read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (ubyte data only) into a uint8 array of its declared shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return data.reshape(dims)


def load_split(data_dir: Path, prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images as float32 [N,1,28,28] in 0..1 (bytes / 255), labels as int64 [N]."""
    images = read_idx(data_dir / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / f"{prefix}-labels-idx1-ubyte.gz")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


# --------------------------------------------------------------------------------------------
# Model


class FashionCNN(nn.Module):
    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        # Fixed normalisation constants, part of the exported graph.
        self.register_buffer("mean", torch.tensor([[[[mean]]]], dtype=torch.float32))
        self.register_buffer("inv_std", torch.tensor([[[[1.0 / std]]]], dtype=torch.float32))
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 128, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(128)
        self.drop = nn.Dropout(0.3)
        self.fc1 = nn.Linear(128 * 7 * 7, 48)
        self.fc2 = nn.Linear(48, 10)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = (image - self.mean) * self.inv_std
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.max_pool2d(F.relu(self.bn3(self.conv3(x))), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(self.drop(x)))
        return self.fc2(self.drop(x))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Augmentation (the `aug` variant), per image, applied to a whole batch with torch ops


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random horizontal flip (p=0.5), integer shift dx,dy in [-2,2] px and scale s in [0.95,1.05]
    about the image centre, zero fill outside the image. x: [B,1,H,W] in 0..1."""
    b, _, h, w = x.shape
    flip = torch.rand(b, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    dx = torch.randint(-2, 3, (b,), generator=g).to(x.dtype)
    dy = torch.randint(-2, 3, (b,), generator=g).to(x.dtype)
    s = 0.95 + 0.10 * torch.rand(b, generator=g)
    # affine_grid maps output coordinates to input coordinates (normalised, align_corners=False:
    # one pixel is 2/W wide). Output = input scaled by s about the centre, then moved by (dx,dy).
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = 1.0 / s
    theta[:, 1, 1] = 1.0 / s
    theta[:, 0, 2] = -2.0 * dx / w
    theta[:, 1, 2] = -2.0 * dy / h
    grid = F.affine_grid(theta, [b, 1, h, w], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


# --------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[i: i + batch]) for i in range(0, len(x), batch)])


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    return (logits.argmax(1) == y).float().mean().item()


def shift(x: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Integer shift with zero fill: output[.., i, j] = x[.., i - dy, j - dx]."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    out[..., max(dy, 0): h + min(dy, 0), max(dx, 0): w + min(dx, 0)] = \
        x[..., max(-dy, 0): h + min(-dy, 0), max(-dx, 0): w + min(-dx, 0)]
    return out


@torch.no_grad()
def tta_accuracies(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Informational: accuracy when the logits of several views are averaged (mean of logits)."""
    views = {
        "hflip (2 views)": [(f, 0, 0) for f in (False, True)],
        "hflip x dx{-1,0,1} (6 views)": [(f, d, 0) for f in (False, True) for d in (-1, 0, 1)],
        "hflip x dx{-1,0,1} x dy{-1,0,1} (18 views)":
            [(f, d, e) for f in (False, True) for d in (-1, 0, 1) for e in (-1, 0, 1)],
    }
    cache: dict[tuple[bool, int, int], torch.Tensor] = {}
    out = {}
    for name, vs in views.items():
        total = None
        for v in vs:
            if v not in cache:
                f, d, e = v
                xv = x.flip(3) if f else x
                cache[v] = predict_logits(model, shift(xv, d, e))
            total = cache[v] if total is None else total + cache[v]
        out[name] = accuracy(total / len(vs), y)
    return out


# --------------------------------------------------------------------------------------------
# Training


def train_variant(variant: str, args, data, mean: float, std: float, log) -> tuple[nn.Module, dict]:
    x_train, y_train, x_test, y_test = data
    torch.manual_seed(args.seed)  # same initial weights and dropout stream for both variants
    model = FashionCNN(mean, std)
    g = torch.Generator().manual_seed(args.seed + 1)  # shuffling (same order for both variants)
    g_aug = torch.Generator().manual_seed(args.seed + 2)
    n = len(x_train)
    steps = (n + args.batch - 1) // args.batch
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=args.lr, total_steps=args.epochs * steps, pct_start=0.2)
    log(f"[{variant}] {count_params(model)} parameters, {n} training images, "
        f"{steps} steps/epoch, augmentation: {'on' if variant == 'aug' else 'off'}")
    t0 = time.time()
    history = []
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        model.train()
        perm = torch.randperm(n, generator=g)
        loss_sum = 0.0
        for i in range(steps):
            idx = perm[i * args.batch: (i + 1) * args.batch]
            xb, yb = x_train[idx], y_train[idx]
            if variant == "aug":
                xb = augment(xb, g_aug)
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
        train_time = time.time() - te
        acc = accuracy(predict_logits(model, x_test), y_test)
        history.append({"epoch": epoch, "loss": loss_sum / n, "acc": acc})
        log(f"[{variant}] epoch {epoch:2d}/{args.epochs}  train loss {loss_sum / n:.4f}  "
            f"test acc {acc * 100:.2f}%  epoch {train_time:.1f} s  elapsed {time.time() - t0:.1f} s")
    total = time.time() - t0
    model.eval()
    logits = predict_logits(model, x_test)
    final = {
        "variant": variant,
        "test_acc": accuracy(logits, y_test),
        "correct": int((logits.argmax(1) == y_test).sum()),
        "n_test": len(y_test),
        "train_seconds": total,
        "params": count_params(model),
        "tta": tta_accuracies(model, x_test, y_test),
        "logits": logits,
    }
    log(f"[{variant}] done: test acc {final['test_acc'] * 100:.2f}% "
        f"({final['correct']}/{final['n_test']}), training + per-epoch eval {total:.1f} s")
    for k, v in final["tta"].items():
        log(f"[{variant}]   TTA (mean of logits) {k}: {v * 100:.2f}%")
    return model, final


def export_onnx(model: nn.Module, path: Path) -> None:
    model.eval()
    buf = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(
            model,
            (torch.zeros(1, 1, 28, 28),),
            buf,
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
            opset_version=OPSET,
            do_constant_folding=True,
            export_params=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    path.write_bytes(buf.getvalue())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=["plain", "aug", "both"], default="both")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (OneCycle)")
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: OMP_NUM_THREADS, else torch's default)")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--log", type=Path, default=None,
                    help="log file (default OUT/training-log.txt; not written with --limit-*)")
    ap.add_argument("--limit-train", type=int, default=0, help="use only the first N training images")
    ap.add_argument("--limit-test", type=int, default=0, help="use only the first N test images")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--dump-logits", type=Path, default=None,
                    help="write JSON with the final torch logits of the first 64 test images")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)

    lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)
        lines.append(msg)

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    # Normalisation constants from the full training set (before any --limit-train).
    mean = float(x_train.mean(dtype=torch.float64))
    std = float(x_train.to(torch.float64).std())
    if args.limit_train:
        x_train, y_train = x_train[: args.limit_train], y_train[: args.limit_train]
    if args.limit_test:
        x_test, y_test = x_test[: args.limit_test], y_test[: args.limit_test]
    smoke = bool(args.limit_train or args.limit_test)

    log(f"# Fashion-MNIST CNN training log ({time.strftime('%Y-%m-%d %H:%M:%S %Z')})")
    log(f"# command: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} "
        f"{sys.executable} {' '.join([str(Path(sys.argv[0]))] + sys.argv[1:])}")
    log(f"# PyTorch {torch.__version__}, NumPy {np.__version__}, Python {platform.python_version()}, "
        f"{torch.get_num_threads()} torch threads, {platform.machine()} "
        f"({os.cpu_count()} logical CPUs)")
    log(f"# data: {args.data} ({len(x_train)} train, {len(x_test)} test); "
        f"normalisation mean {mean:.6f} std {std:.6f} (inside the graph)")
    log(f"# epochs {args.epochs}, batch {args.batch}, AdamW peak lr {args.lr} (OneCycle, 20% warm-up), "
        f"weight decay 1e-4, dropout 0.3, seed {args.seed}")

    variants = ["plain", "aug"] if args.variant == "both" else [args.variant]
    data = (x_train, y_train, x_test, y_test)
    results = []
    for v in variants:
        model, final = train_variant(v, args, data, mean, std, log)
        results.append(final)
        if not args.no_export:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"cnn_{v}.onnx"
            export_onnx(model, path)
            log(f"[{v}] exported {path.relative_to(REPO) if path.is_relative_to(REPO) else path} "
                f"({path.stat().st_size} bytes)")

    log("")
    log("# summary (accuracy on the test images, model alone; training time = wall clock for all "
        "epochs incl. the per-epoch test evaluation)")
    for r in results:
        log(f"{r['variant']:5s}  test acc {r['test_acc'] * 100:.2f}% ({r['correct']}/{r['n_test']})  "
            f"training time {r['train_seconds']:.1f} s  params {r['params']}")
    for r in results:
        tta = ", ".join(f"{k}: {v * 100:.2f}%" for k, v in r["tta"].items())
        log(f"{r['variant']:5s}  TTA (mean of logits, zero-fill integer shifts) {tta}")

    if args.dump_logits:
        args.dump_logits.write_text(json.dumps({
            r["variant"]: {
                "correct": r["correct"], "n_test": r["n_test"],
                "logits_first64": r["logits"][:64].tolist(),
            } for r in results
        }))
    log_path = args.log or (None if smoke else args.out / "training-log.txt")
    if log_path:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("\n".join(lines) + "\n")
        print(f"wrote {log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
