// How freed tensor memory goes back to the system allocator. A training step allocates and frees the same
// large buffers (activations, gradients, logits) every step. With glibc's defaults the biggest of them are
// mmap'd and unmapped each time, and every page is faulted in and zeroed again by the kernel: 130–550 MB
// of page faults per step of the reference Transformer, 10–20% of its time. At load the addon therefore
// asks glibc to serve big blocks from the heap and to keep freed memory for reuse; release_memory() hands
// it back on demand. NODEFORMER_MALLOC=system leaves the allocator as it was.
#pragma once

namespace nf {

// Called once at load; returns whether the allocator was tuned (glibc only, and not opted out).
bool configure_allocator();
bool allocator_configured();
// Returns freed heap memory to the operating system (glibc's malloc_trim); a no-op elsewhere.
void release_memory();

}  // namespace nf
