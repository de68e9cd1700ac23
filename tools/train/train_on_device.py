# How cnn_aug.onnx was made: the augmentation variant of train_fashion.py, run on a lent machine
# with 16 CPU cores (PyTorch 2.11) while this 2-core machine trained the plain variant. Same script,
# seeds and data (the Debian IDX files copied to devicework/data); the TorchScript exporter is forced
# so that the ONNX graph has the same form as PyTorch 1.13 exports.
import os, sys, runpy, torch
out = os.environ['OUT']
orig = torch.onnx.export
def export(*a, **k):
    try:
        return orig(*a, dynamo=False, **k)
    except TypeError:
        return orig(*a, **k)
torch.onnx.export = export
print('torch', torch.__version__, 'threads', os.cpu_count(), flush=True)
sys.argv = ['train_fashion.py', '--variant', 'aug', '--data', 'devicework/data', '--out', out, '--threads', '16', '--log', os.path.join(out, 'training-log-aug.txt')]
runpy.run_path('tools/train/train_fashion.py', run_name='__main__')
