// Bindings of family "gemm": sgemm and sgemmBf16 on row-major Float32Arrays (any view: the data
// pointer starts at the view), leading dimensions in elements. Every access the kernel will make
// is checked against the arrays' lengths here, and C may not overlap A or B (threads write C
// while reading A and B).
#include <cmath>
#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/bindings.h"
#include "core/backend.h"

namespace bitnet {
namespace binding {
namespace {

// The smallest length a row-major rows x cols matrix with leading dimension ld needs.
uint64_t span(int64_t rows, int64_t cols, int64_t ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<uint64_t>(rows - 1) * static_cast<uint64_t>(ld) + static_cast<uint64_t>(cols);
}

void check_matrix(const Args& args, const char* name, const char* ld_name, const TypedView& v, int64_t rows, int64_t cols,
                  int64_t ld, const char* shape) {
  if (ld < cols && rows > 1) {
    args.range_error(ld_name, "at least " + std::to_string(cols) + " (the row length of " + name + ", " + shape + ")",
                     std::to_string(ld));
  }
  const uint64_t need = span(rows, cols, ld);
  if (v.length < need) {
    args.range_error(name,
                     "of length at least " + std::to_string(need) + " (" + shape + " with " + ld_name + " " + std::to_string(ld) + ")",
                     "length " + std::to_string(v.length));
  }
}

Napi::Value SgemmWith(const Napi::CallbackInfo& info, bool bf16) {
  return guarded(info, [&]() -> Napi::Value {
    Args args(info, bf16 ? "sgemmBf16(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)"
                         : "sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)",
              13);
    const bool ta = args.boolean(0, "transA");
    const bool tb = args.boolean(1, "transB");
    const int64_t m = args.integer(2, "m", 0, kMaxDim);
    const int64_t n = args.integer(3, "n", 0, kMaxDim);
    const int64_t k = args.integer(4, "k", 0, kMaxDim);
    const double alpha = args.finite(5, "alpha");
    const int64_t lda = args.integer(7, "lda", 1, kMaxDim);
    const int64_t ldb = args.integer(9, "ldb", 1, kMaxDim);
    const double beta = args.finite(10, "beta");
    const int64_t ldc = args.integer(12, "ldc", 1, kMaxDim);
    if (std::fabs(alpha) > 3.4028234663852886e38) args.range_error("alpha", "a number within float32 range", format_number(alpha));
    if (std::fabs(beta) > 3.4028234663852886e38) args.range_error("beta", "a number within float32 range", format_number(beta));
    TypedView a = args.typed(6, "a", {napi_float32_array});
    TypedView b = args.typed(8, "b", {napi_float32_array});
    TypedView c = args.typed(11, "c", {napi_float32_array});
    // Stored shapes: A is m x k (k x m when transposed), B is k x n (n x k), C is m x n.
    if (ta) check_matrix(args, "a", "lda", a, k, m, lda, "k x m, transposed");
    else check_matrix(args, "a", "lda", a, m, k, lda, "m x k");
    if (tb) check_matrix(args, "b", "ldb", b, n, k, ldb, "n x k, transposed");
    else check_matrix(args, "b", "ldb", b, k, n, ldb, "k x n");
    check_matrix(args, "c", "ldc", c, m, n, ldc, "m x n");
    expect_disjoint(args, "c", c, "a", a);
    expect_disjoint(args, "c", c, "b", b);
    backend_of(a).sgemm(ta, tb, static_cast<size_t>(m), static_cast<size_t>(n), static_cast<size_t>(k), static_cast<float>(alpha),
                        reinterpret_cast<const float*>(a.data), static_cast<size_t>(lda), reinterpret_cast<const float*>(b.data),
                        static_cast<size_t>(ldb), static_cast<float>(beta), reinterpret_cast<float*>(c.data),
                        static_cast<size_t>(ldc), bf16);
    return info.Env().Undefined();
  });
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) { return SgemmWith(info, false); }

Napi::Value SgemmBf16(const Napi::CallbackInfo& info) { return SgemmWith(info, true); }

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  define_kernel(env, exports, "sgemm", Sgemm, "gemm");
  define_kernel(env, exports, "sgemmBf16", SgemmBf16, "gemm");
}

namespace {
const BindingRegistration kRegistration(register_gemm);
}  // namespace

}  // namespace binding
}  // namespace bitnet
