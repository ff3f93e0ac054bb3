// See memory.h.
#include "memory.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nf {
namespace {
bool configured = false;
}  // namespace

bool configure_allocator() {
#if defined(__GLIBC__)
  const char* choice = std::getenv("NODEFORMER_MALLOC");
  if (choice != nullptr && std::strcmp(choice, "system") == 0) return false;
  // Blocks up to 1 GiB come from the heap (a [2048, 8000] logits buffer is 64 MB), and up to 1 GiB of
  // freed memory at the top of the heap stays mapped for the next step.
  configured = mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
#endif
  return configured;
}

bool allocator_configured() { return configured; }

void release_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace nf
