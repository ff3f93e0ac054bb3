// Error codes shared with TypeScript, and the exception kernels and bindings throw.
//
// The codes are defined once here; addon.cc exports them and lib/native/binding.ts checks at load that
// every code it maps to an error class exists. C++ never aborts: anything wrong becomes an nf::Error,
// which the binding layer (bindings/common.h) turns into a JS error of the matching class.
#pragma once

#include <stdexcept>
#include <string>

namespace nf {

enum class Code {
  InvalidArgument,  // a value of the right type but outside what is allowed
  Shape,            // dimensions that do not fit together, or a buffer of the wrong length
  DType,            // a typed array of the wrong element type
  Device,           // a device that is missing or cannot be used
  Disposed,         // a tensor or handle used after dispose()
  OutOfRange,       // an index (token id, offset) outside its buffer
  Native,           // anything else raised in native code (out of memory, ...)
};

constexpr Code kAllCodes[] = {Code::InvalidArgument, Code::Shape,      Code::DType, Code::Device,
                              Code::Disposed,        Code::OutOfRange, Code::Native};

// The string a JS error carries in its `.code` property.
constexpr const char* code_name(Code c) {
  switch (c) {
    case Code::InvalidArgument: return "ERR_INVALID_ARGUMENT";
    case Code::Shape: return "ERR_SHAPE";
    case Code::DType: return "ERR_DTYPE";
    case Code::Device: return "ERR_DEVICE";
    case Code::Disposed: return "ERR_DISPOSED";
    case Code::OutOfRange: return "ERR_OUT_OF_RANGE";
    case Code::Native: return "ERR_NATIVE";
  }
  return "ERR_NATIVE";
}

class Error : public std::runtime_error {
 public:
  Error(Code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Code code() const { return code_; }

 private:
  Code code_;
};

}  // namespace nf
