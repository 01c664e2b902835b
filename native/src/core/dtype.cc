#include "core/dtype.h"

namespace bitnet {

bool parse_dtype(const std::string& name, DType* out) {
  if (name == "f32") *out = DType::F32;
  else if (name == "f16") *out = DType::F16;
  else if (name == "bf16") *out = DType::BF16;
  else if (name == "i8") *out = DType::I8;
  else if (name == "i32") *out = DType::I32;
  else if (name == "u8") *out = DType::U8;
  else if (name == "ternary2") *out = DType::Ternary2;
  else return false;
  return true;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I8: return "i8";
    case DType::I32: return "i32";
    case DType::U8: return "u8";
    case DType::Ternary2: return "ternary2";
  }
  return "unknown";
}

size_t dtype_size(DType d) {
  switch (d) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I8: case DType::U8: return 1;
    case DType::Ternary2: return 0;
  }
  return 0;
}

}  // namespace bitnet
