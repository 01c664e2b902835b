// The backend interface: everything a device must provide. The CPU backend is the first
// implementation; a Metal backend will implement the same interface beside it. The binding
// talks only to this interface, never to a kernel family directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/attention_shape.h"
#include "core/cross_entropy.h"
#include "core/dtype.h"
#include "core/kernel_types.h"
#include "core/registry.h"
#include "core/strided.h"

namespace bitnet {

enum class Device { Cpu, Metal };

// One weight matrix of a grouped ternary product: tl256 bytes, rows, scale(s), output [m, n].
struct TernaryOperand {
  const uint8_t* w;
  size_t n;
  const float* w_scale;
  bool per_row_scale;
  float* out;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  virtual const char* name() const = 0;

  // Storage: 64-byte aligned; nullptr when the memory cannot be had.
  virtual Allocation* allocate(size_t bytes, bool zero) = 0;
  virtual void release(Allocation* a) = 0;

  // Converts n elements between f32 and f16/bf16 (round-to-nearest-even).
  virtual void convert(DType from, const void* in, DType to, void* out, size_t n) = 0;
  virtual void strided_copy(const StridedCopy& c) = 0;

  // Quantizes m rows of k floats to int8 (rows of kp bytes, zero padded), per-row scales and
  // sums. Returns the first row holding a non-finite value, or SIZE_MAX.
  virtual size_t quantize_activations_int8(const float* x, size_t m, size_t k, size_t kp, int8_t* q, float* scale,
                                      int32_t* sum) = 0;
  // Absmean ternary quantization; weight_scale_count(mode, n, k) scales. Returns the first
  // non-finite index, or SIZE_MAX.
  virtual size_t quantize_weights_ternary(const float* w, size_t n, size_t k, WeightScaleMode mode, int8_t* codes, float* scales) = 0;
  // Packs / unpacks an [n, k] ternary matrix (packed_ternary_bytes(layout, n, k) bytes). Return
  // the first invalid flat index, or SIZE_MAX.
  virtual size_t pack_ternary(TernaryLayout layout, const int8_t* w, size_t n, size_t k, uint8_t* out) = 0;
  virtual size_t unpack_ternary(TernaryLayout layout, const uint8_t* packed, size_t n, size_t k, int8_t* w) = 0;
  // out[m, n] = float((double(dot(w[n], x[m])) * w_scale[n or 0]) / x_scale[m]): exact int32 dots, scaled in float64;
  // x rows of kp int8 (padded), w in tl256 layout.
  // Several products of the same int8 activations in one call (each operand as in ternary_matmul).
  virtual void ternary_matmul_group(const int8_t* xq, size_t m, size_t kp, const float* x_scale, const int32_t* x_sum,
                                    const TernaryOperand* ops, size_t count) = 0;
  virtual void ternary_matmul(const int8_t* xq, size_t m, size_t kp, const float* x_scale, const int32_t* x_sum,
                              const uint8_t* w, size_t n, const float* w_scale, bool per_row_scale, float* out) = 0;

  // fp32 C = alpha * op(A) * op(B) + beta * C, row-major (see cpu/gemm/gemm.h).
  // With bf16, operands are rounded to bfloat16 when packed (float32 accumulation).
  // out[m, n] = x[m, :] . w[n, :] for a dense [n, k] weight matrix. For DenseFormat::Int8, x is
  // int8 rows (k a multiple of kDenseInt8Align) quantized with x_scale (127 / absmax per row),
  // w_scale likewise per weight row, and out = dot / (x_scale * w_scale).
  virtual void dense_matmul(DenseFormat format, const void* x, size_t m, size_t k, const void* w, size_t n, const float* x_scale,
                            const float* w_scale, float* out) = 0;
  virtual void sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
                     const float* b, size_t ldb, float beta, float* c, size_t ldc, bool bf16) = 0;
  // Whether sgemm(bf16) runs bf16 instructions now; otherwise it runs the fp32 product (rounding
  // the operands would cost time and buy nothing without bf16 instructions).
  virtual bool bf16_gemm_native() const = 0;

  // Causal GQA attention (see cpu/attention/attention.h): out and the per-row log-sum-exp lse
  // [batch, q_heads, q_len]; the backward overwrites dq, dk and dv.
  virtual void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                                 float* lse) = 0;
  // One query position against a KV cache (f32, or IEEE f16 when `f16`), every key visible.
  virtual void attention_decode(const float* q, const void* k, const void* v, bool f16, size_t kv_len, size_t q_heads,
                                size_t kv_heads, size_t head_dim, float scale, float* out) = 0;
  virtual void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                                  const float* lse, const float* dout, float* dq, float* dk, float* dv) = 0;

  // RMSNorm over rows of d floats (see cpu/norm/norm.h); w may be null (ones). The backward
  // writes dx and/or dw when they are not null.
  // Softmax cross-entropy over rows (see cpu/norm/norm.h).
  // w[i] = exp((z[i] - max) * inv_t) for i < n (the weights of temperature sampling).
  virtual void softmax_weights(const float* z, size_t n, float max, float inv_t, float* w) = 0;
  virtual void cross_entropy_forward(const CrossEntropyRows& c, size_t rows, double* lse, double* loss) = 0;
  virtual void cross_entropy_backward(const CrossEntropyRows& c, size_t rows, const double* lse, const double* scale,
                                      bool per_row_scale, float* dx) = 0;
  virtual void rms_norm_forward(const float* x, const float* w, size_t rows, size_t d, float eps, float* out, float* rstd) = 0;
  virtual void rms_norm_backward(const float* g, const float* x, const float* w, const float* rstd, size_t rows, size_t d,
                                 float* dx, float* dw) = 0;

  // out = a op b element-wise (b unused by unary ops).
  virtual void elementwise(ElementwiseOp op, const float* a, const float* b, float* out, size_t n) = 0;
  // out[rows, cols] = q / scale per row (q: rows of kp int8).
  // out[i] = codes[i] * scale (ternary weight codes to floats).
  virtual void dequantize_ternary(const int8_t* codes, size_t n, float scale, float* out) = 0;
  virtual void dequantize_activations(const int8_t* q, size_t rows, size_t cols, size_t kp, const float* scale, float* out) = 0;

  // Rotate-half RoPE over x [rows, heads, head_dim] (see cpu/elementwise/elementwise.h).
  virtual void rope(const float* x, float* out, size_t rows, size_t seq, size_t heads, size_t head_dim, const float* cos,
                    const float* sin, size_t offset, float sign) = 0;

  // AdamW update of n parameters in place (see cpu/elementwise/elementwise.h).
  virtual void adamw_update(float* p, const float* g, float* m, float* v, size_t n, double decay, double beta1, double beta2,
                     double step_size, double bias2_sqrt, double eps) = 0;

  // Embedding lookup out[i] = w[ids[i]] and its gradient dw[ids[i]] += g[i] (rows of d floats;
  // ids already checked to be rows of w). See cpu/embedding/embedding.h.
  virtual void embedding_forward(const float* w, size_t d, const int32_t* ids, size_t n, float* out) = 0;
  virtual void embedding_backward(const float* g, size_t d, const int32_t* ids, size_t n, float* dw) = 0;

  // Sum of squares in float64 over fixed chunks added in order (the same for every thread count).
  virtual double sum_squares(const float* x, size_t n) = 0;

  // XOR checksum of bytes (a multiple of 8) read across the pool: the memory roofline.
  virtual uint64_t stream_read(const uint8_t* data, size_t bytes) = 0;
  // Runs `iterations` rounds of the active ISA's int8 dot chain on every pool thread (operands in
  // registers): the compute roofline. Returns the operations done (a multiply-add counts 2).
  virtual uint64_t int8_dot_peak(uint64_t iterations) = 0;

  // The kernel families with the variant each would use now.
  virtual std::vector<FamilyInfo> families() const = 0;
};

Backend& cpu_backend();
// The backend of `device` (the CPU, or Metal where it is built); throws std::runtime_error for a
// device this addon lacks.
Backend& backend_for(Device device);

// "cpu", "metal" or "auto". Throws bitnet::RangeError for an unknown name and bitnet::Error-like
// std::runtime_error when the device is not built into this addon.
Backend& backend_for(const std::string& device);
bool metal_built();

}  // namespace bitnet
