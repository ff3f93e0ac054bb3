#!/usr/bin/python3
"""PyTorch peer of bench/nn/transformer.ts: the same reference Transformer (PyTorch tutorial's
Seq2SeqTransformer: dModel 256, 4 heads, 3+3 layers, FFN 1024, vocab 8000, batch 32x64 source and target
tokens, dropout 0.1, post-LN), timed for a training step (forward, label-smoothed cross-entropy, backward,
Adam) and an inference forward on THREADS threads. Not run by tests or CI; for the ratio ours/PyTorch on
the same machine (apt-get install python3-torch libopenblas0-pthread):

    /usr/bin/python3 bench/peers/torch_transformer.py 1
    /usr/bin/python3 bench/peers/torch_transformer.py 2
    /usr/bin/python3 bench/peers/torch_transformer.py 1 --json   # for bench/nn/transformer.ts: medians in ms

OpenBLAS keeps its own thread pool, which torch.set_num_threads does not size: OPENBLAS_NUM_THREADS is set
here before torch loads (on a Xeon, Debian's OpenBLAS also needs OPENBLAS_CORETYPE=SkylakeX for AVX-512).
"""
import json
import math
import os
import statistics
import sys
import time

THREADS = int(sys.argv[1]) if __name__ == '__main__' and len(sys.argv) > 1 else 1  # not when imported by an exporter
os.environ['OPENBLAS_NUM_THREADS'] = str(THREADS)
import torch  # noqa: E402  (after the thread count is fixed)
from torch import nn

D, H, LAYERS, FFN, V, B, L = 256, 4, 3, 1024, 8000, 32, 64


class PositionalEncoding(nn.Module):
    def __init__(self, emb, dropout, maxlen=5000):
        super().__init__()
        den = torch.exp(-torch.arange(0, emb, 2) * math.log(10000) / emb)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pe = torch.zeros((maxlen, emb))
        pe[:, 0::2] = torch.sin(pos * den)
        pe[:, 1::2] = torch.cos(pos * den)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pe.unsqueeze(-2))

    def forward(self, x):
        return self.dropout(x + self.pos_embedding[:x.size(0), :])


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Transformer(D, H, LAYERS, LAYERS, FFN, 0.1)
        self.generator = nn.Linear(D, V)
        self.src_emb = nn.Embedding(V, D)
        self.tgt_emb = nn.Embedding(V, D)
        self.pe = PositionalEncoding(D, 0.1)

    def forward(self, src, tgt, tgt_mask):
        s = self.pe(self.src_emb(src) * math.sqrt(D))
        t = self.pe(self.tgt_emb(tgt) * math.sqrt(D))
        return self.generator(self.transformer(s, t, None, tgt_mask))


def main():
    torch.manual_seed(0)
    model = Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    src = torch.randint(3, V, (L, B))
    tgt = torch.randint(3, V, (L, B))
    out = torch.randint(3, V, (L, B))
    mask = nn.Transformer.generate_square_subsequent_mask(L)

    def step():
        model.train()
        logits = model(src, tgt, mask)
        loss = nn.functional.cross_entropy(logits.reshape(-1, V), out.reshape(-1), label_smoothing=0.1, ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def forward():
        model.eval()
        with torch.no_grad():
            model(src, tgt, mask)

    torch.set_num_threads(THREADS)
    medians = {}
    for name, fn, n in (('training step', step, 3), ('forward (no_grad)', forward, 5)):
        fn()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        medians[name] = statistics.median(times)
    if '--json' in sys.argv:
        print(json.dumps({'framework': f'PyTorch {torch.__version__}', 'trainMs': medians['training step'],
                          'forwardMs': medians['forward (no_grad)']}))
        return
    for name, ms in medians.items():
        print(f'| PyTorch {torch.__version__} {name} | {THREADS} | {ms:.0f} |')


if __name__ == '__main__':
    main()
