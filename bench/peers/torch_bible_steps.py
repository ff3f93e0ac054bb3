#!/usr/bin/python3
"""PyTorch peer of the Bible benchmark's throughput (bench/bible/bible.ts): the recipe of PyTorch's
"Language Translation with nn.Transformer" tutorial (post-LN nn.Transformer, sqrt(d)-scaled embeddings,
sinusoidal positions, Linear generator; Adam (0.9, 0.98), label smoothing 0.1, clipping 1) trained on
exactly the batches the bench hands it, in its order, so both frameworks see the same shapes:

    /usr/bin/python3 bench/peers/torch_bible_steps.py batches.json THREADS

batches.json: { "vocab", "dModel", "heads", "layers", "ffn", "dropout", "tieEmbeddings",
"batches": [{ "src": [[ids]], "tgt": [[<bos> ids <eos>]] }, ...] }. The first two batches warm up; prints
one JSON line with the target tokens per second of the others (Debian's python3-torch 1.13).
"""
import json
import math
import os
import sys
import time

THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 2
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # the peer script's setting: torch's own threads do the work
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import torch  # noqa: E402
from torch import nn  # noqa: E402

PAD = 0
spec = json.load(open(sys.argv[1]))
torch.set_num_threads(THREADS)
torch.manual_seed(0)
D, V = spec['dModel'], spec['vocab']


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.core = nn.Transformer(D, spec['heads'], spec['layers'], spec['layers'], spec['ffn'], spec['dropout'], batch_first=True)
        self.src_emb, self.tgt_emb = nn.Embedding(V, D), nn.Embedding(V, D)
        self.generator = nn.Linear(D, V)
        if spec.get('tieEmbeddings'):
            self.generator.weight = self.tgt_emb.weight
        position = torch.arange(512).unsqueeze(1)
        freq = torch.exp(-torch.arange(0, D, 2) * math.log(10000.0) / D)
        pe = torch.zeros(512, D)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(position * freq), torch.cos(position * freq)
        self.register_buffer('pe', pe)
        self.drop = nn.Dropout(spec['dropout'])

    def embed(self, table, ids):
        return self.drop(table(ids) * math.sqrt(D) + self.pe[:ids.size(1)])

    def forward(self, src, tgt_in):
        causal = torch.triu(torch.full((tgt_in.size(1), tgt_in.size(1)), float('-inf')), diagonal=1)
        out = self.core(self.embed(self.src_emb, src), self.embed(self.tgt_emb, tgt_in), tgt_mask=causal,
                        src_key_padding_mask=src == PAD, tgt_key_padding_mask=tgt_in == PAD, memory_key_padding_mask=src == PAD)
        return self.generator(out)


def padded(rows):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)


model = Model()
for p in model.parameters():
    if p.dim() > 1:
        nn.init.xavier_uniform_(p)
opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
loss_fn = nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=0.1)
model.train()
seconds, tokens = 0.0, 0
for i, b in enumerate(spec['batches']):
    t0 = time.perf_counter()
    src, tgt = padded(b['src']), padded(b['tgt'])
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    loss = loss_fn(model(src, tgt_in).reshape(-1, V), tgt_out.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if i >= 2:
        seconds += time.perf_counter() - t0
        tokens += int((tgt_out != PAD).sum())
print(json.dumps({'framework': f'PyTorch {torch.__version__}', 'threads': THREADS, 'steps': len(spec['batches']) - 2,
                  'seconds': seconds, 'targetTokens': tokens, 'tokensPerSecond': tokens / seconds}))
