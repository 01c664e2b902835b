// Plain C++ error types for code below the binding. The binding turns them into JS TypeError /
// RangeError / Error, so kernels and core code never need N-API.
#pragma once
#include <stdexcept>
#include <string>

namespace bitnet {

struct TypeError : std::runtime_error {
  explicit TypeError(const std::string& m) : std::runtime_error(m) {}
};
struct RangeError : std::runtime_error {
  explicit RangeError(const std::string& m) : std::runtime_error(m) {}
};

}  // namespace bitnet
