// Element types shared by the binding and the kernels.
#pragma once
#include <cstddef>
#include <string>

namespace bitnet {

enum class DType { F32, F16, BF16, I8, I32, U8, Ternary2 };

// Returns false when `name` is not a dtype name ("f32", "f16", "bf16", "i8", "i32", "u8",
// "ternary2").
bool parse_dtype(const std::string& name, DType* out);
const char* dtype_name(DType d);
// Bytes per element; 0 for the packed ternary2 (4 elements a byte).
size_t dtype_size(DType d);

}  // namespace bitnet
