#!/usr/bin/python3
"""PyTorch peer of bench/cuda.ts on the same GPU: cuBLAS GEMM at 4096^3 and SDPA forward (32 heads,
L = 4096, D = 64), each with TF32 allowed ('high') and exact float32 ('highest'), in TFLOP/s. Not run by
tests or CI; for the ratios ours/PyTorch of issue 6 (GEMM >= 70% of cuBLAS, attention >= 70% of SDPA):

    python3 bench/peers/torch_cuda.py
"""
import torch
import torch.nn.functional as F


def ms(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(reps):
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return sorted(times)[len(times) // 2]


n, bh, l, d = 4096, 32, 4096, 64
a, b = torch.randn(n, n, device='cuda'), torch.randn(n, n, device='cuda')
q, k, v = (torch.randn(1, bh, l, d, device='cuda') for _ in range(3))
print(f'torch {torch.__version__} on {torch.cuda.get_device_name()}')
print('| what | math | ms | TFLOP/s |\n|---|---|---|---|')
for precision in ('high', 'highest'):
    torch.set_float32_matmul_precision(precision)
    math = 'TF32' if precision == 'high' else 'fp32'
    t = ms(lambda: a @ b)
    print(f'| GEMM {n}^3 (cuBLAS) | {math} | {t:.2f} | {2 * n**3 / t / 1e9:.1f} |')
    with torch.no_grad():
        t = ms(lambda: F.scaled_dot_product_attention(q, k, v))
    print(f'| SDPA fwd {bh} heads x L {l}, D {d} | {math} | {t:.2f} | {4 * bh * l * l * d / t / 1e9:.1f} |')
