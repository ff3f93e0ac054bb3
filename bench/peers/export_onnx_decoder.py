#!/usr/bin/python3
"""Exports the reference Transformer of bench/peers/torch_transformer.py to ONNX as two graphs for
bench/peers/ort_decode.mjs (the ONNX Runtime peer of greedy decoding without a KV cache):

    /usr/bin/python3 bench/peers/export_onnx_decoder.py /tmp/ort

writes encoder.onnx (src [Ls, 1] -> memory [Ls, 1, D]) and decoder.onnx (tgt [Lt, 1], memory -> logits of
the last position [1, V]), with Ls and Lt dynamic. The causal mask is built inside the decoder graph from Lt,
so each step only feeds the prefix; only the last position goes through the generator, since greedy
decoding reads nothing else.
"""
import math
import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else '.'
sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
from torch import nn  # noqa: E402

import torch_transformer as tt  # noqa: E402


class Encoder(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, src):
        m = self.m
        return m.transformer.encoder(m.pe(m.src_emb(src) * math.sqrt(tt.D)))


class DecoderStep(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, tgt, memory):
        m = self.m
        n = tgt.size(0)  # traced as a shape op, so the mask follows the dynamic Lt
        mask = torch.triu(torch.full((n, n), float('-inf')), diagonal=1)
        out = m.transformer.decoder(m.pe(m.tgt_emb(tgt) * math.sqrt(tt.D)), memory, tgt_mask=mask)
        return m.generator(out[-1])


def main():
    torch.manual_seed(0)  # same weights as export_onnx.py
    model = tt.Seq2Seq().eval()
    src = torch.randint(3, tt.V, (32, 1))
    tgt = torch.randint(3, tt.V, (5, 1))
    enc, dec = Encoder(model).eval(), DecoderStep(model).eval()
    with torch.no_grad():
        memory = enc(src)
        # The split must agree with the full forward of the model at the last position.
        full = model(src, tgt, nn.Transformer.generate_square_subsequent_mask(tgt.size(0)))[-1]
        assert torch.allclose(dec(tgt, memory), full, atol=1e-4)
        torch.onnx.export(enc, (src,), f'{OUT}/encoder.onnx', input_names=['src'], output_names=['memory'],
                          dynamic_axes={'src': {0: 'Ls'}, 'memory': {0: 'Ls'}}, opset_version=14)
        torch.onnx.export(dec, (tgt, memory), f'{OUT}/decoder.onnx', input_names=['tgt', 'memory'],
                          output_names=['logits'], dynamic_axes={'tgt': {0: 'Lt'}, 'memory': {0: 'Ls'}},
                          opset_version=14)
    print(f'{OUT}/encoder.onnx {OUT}/decoder.onnx')


if __name__ == '__main__':
    main()
