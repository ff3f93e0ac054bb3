// oneDNN's dnnl_sgemm on chosen shapes, timed like ../shared/peers/gemm/gemm_bench.c (a warm-up call, then
// `samples` timings of enough back-to-back calls to last `min_seconds`; the median GFLOP/s), for the
// decode comparison of gemm-decode.ts. C = A·op(B), row-major fp32, A M×K; op = 'T' reads B as N×K
// (a Linear layer's weight), 'N' as K×N.
// Build: gcc -O3 -march=native -fopenmp bench/peers/gemm_onednn.c -o gemm_onednn -ldnnl
// Usage: OMP_NUM_THREADS=1 ./gemm_onednn <N|T> <min_seconds> <samples> MxKxN...   (one JSON line per shape)
#include <dnnl.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
static int cmpd(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  if (argc < 5) return fprintf(stderr, "usage: %s <N|T> <min_seconds> <samples> MxKxN...\n", argv[0]), 2;
  const char tb = argv[1][0];
  const double minsec = atof(argv[2]);
  int samples = atoi(argv[3]);
  if (samples < 1 || samples > 64) samples = 7;
  for (int s = 4; s < argc; s++) {
    int M, K, N;
    if (sscanf(argv[s], "%dx%dx%d", &M, &K, &N) != 3) return fprintf(stderr, "bad shape %s\n", argv[s]), 2;
    float* A = aligned_alloc(64, sizeof(float) * M * K + 64);
    float* B = aligned_alloc(64, sizeof(float) * K * N + 64);
    float* C = aligned_alloc(64, sizeof(float) * M * N + 64);
    for (long i = 0; i < (long)M * K; i++) A[i] = (float)((i * 7) % 13 - 6) / 13.0f;
    for (long i = 0; i < (long)K * N; i++) B[i] = (float)((i * 5) % 11 - 5) / 11.0f;
    const long ldb = tb == 'T' ? K : N;
    const double flop = 2.0 * M * N * K;
    double t = now();
    dnnl_sgemm('N', tb, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C, N);
    const double t1 = now() - t;
    int inner = t1 >= minsec ? 1 : (int)(minsec / (t1 > 1e-7 ? t1 : 1e-7)) + 1;
    if (inner > 100000) inner = 100000;
    double g[64];
    for (int r = 0; r < samples; r++) {
      t = now();
      for (int i = 0; i < inner; i++) dnnl_sgemm('N', tb, M, N, K, 1.0f, A, K, B, ldb, 0.0f, C, N);
      g[r] = flop * inner / (now() - t) / 1e9;
    }
    qsort(g, samples, sizeof g[0], cmpd);
    printf("{\"lib\":\"onednn\",\"shape\":\"%dx%dx%d\",\"transB\":\"%c\",\"threads\":%d,\"median\":%.2f}\n", M, K, N,
           tb, omp_get_max_threads(), g[samples / 2]);
    fflush(stdout);
    free(A), free(B), free(C);
  }
  return 0;
}
