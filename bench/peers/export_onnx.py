#!/usr/bin/python3
"""Exports the reference Transformer of bench/peers/torch_transformer.py to ONNX for
bench/peers/ort_transformer.mjs (the ONNX Runtime peer of `npm run bench -- transformer`):

    /usr/bin/python3 bench/peers/export_onnx.py /tmp/ort/model.onnx
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
from torch import nn  # noqa: E402

import torch_transformer as tt  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'model.onnx'
    torch.manual_seed(0)
    model = tt.Seq2Seq().eval()
    src = torch.randint(3, tt.V, (tt.L, tt.B))
    tgt = torch.randint(3, tt.V, (tt.L, tt.B))
    mask = nn.Transformer.generate_square_subsequent_mask(tt.L)
    torch.onnx.export(model, (src, tgt, mask), out, input_names=['src', 'tgt', 'mask'], output_names=['logits'],
                      opset_version=14)
    print(out)


if __name__ == '__main__':
    main()
