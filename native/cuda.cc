// nf::cuda::api() for an addon built without CUDA (binding.gyp, or CMake without nvcc); with CUDA,
// cuda/api.cu defines it.
#include "cuda.h"

#if !defined(NF_HAVE_CUDA)
namespace nf::cuda {
const Api* api() { return nullptr; }
}  // namespace nf::cuda
#endif
