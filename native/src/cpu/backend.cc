// The CPU implementation of the backend interface: kernel families dispatched by ISA, work split
// over the thread pool.
#include <stdexcept>

#include "core/backend.h"
#include "core/errors.h"
#include "core/thread_pool.h"
#include "cpu/convert/convert.h"
#include "cpu/attention/attention.h"
#include "cpu/copy/copy.h"
#include "cpu/dense/dense.h"
#include "cpu/elementwise/elementwise.h"
#include "cpu/embedding/embedding.h"
#include "cpu/gemm/gemm.h"
#include "cpu/norm/norm.h"
#include "cpu/pack/pack.h"
#include "cpu/quant/quant.h"
#include "cpu/roofline/roofline.h"
#include "cpu/ternary/ternary.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace bitnet {
namespace {

// Below this many elements, waking the workers costs more than the conversion.
constexpr size_t kConvertChunk = 1 << 16;
constexpr size_t kCopyChunkBytes = 1 << 16;
constexpr size_t kQuantChunk = 1 << 14;
constexpr size_t kNone = std::numeric_limits<size_t>::max();

struct FreeDeleter {
  void operator()(uint8_t* p) const { std::free(p); }
};

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::Cpu; }
  const char* name() const override { return "cpu"; }

  Allocation* allocate(size_t bytes, bool zero) override { return bitnet::allocate(bytes, zero); }
  void release(Allocation* a) override { bitnet::release(a); }

  void convert(DType from, const void* in, DType to, void* out, size_t n) override {
    const ConvertKernels& k = convert_family().active();
    if (from == DType::F32 && to == DType::F16) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f32_to_f16(static_cast<const float*>(in) + b, static_cast<uint16_t*>(out) + b, e - b);
      });
    } else if (from == DType::F32 && to == DType::BF16) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f32_to_bf16(static_cast<const float*>(in) + b, static_cast<uint16_t*>(out) + b, e - b);
      });
    } else if (from == DType::F16 && to == DType::F32) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.f16_to_f32(static_cast<const uint16_t*>(in) + b, static_cast<float*>(out) + b, e - b);
      });
    } else if (from == DType::BF16 && to == DType::F32) {
      run_chunked(n, [&](size_t b, size_t e) {
        k.bf16_to_f32(static_cast<const uint16_t*>(in) + b, static_cast<float*>(out) + b, e - b);
      });
    } else {
      throw RangeError(std::string("convert supports f32 <-> f16/bf16, received ") + dtype_name(from) +
                       " -> " + dtype_name(to));
    }
  }

  void strided_copy(const StridedCopy& c) override {
    const CopyKernels& k = copy_family().active();
    size_t rows = 1;
    for (int d = 0; d + 1 < c.ndim; ++d) rows *= static_cast<size_t>(c.shape[d]);
    const size_t row_bytes = c.ndim > 0 ? static_cast<size_t>(c.shape[c.ndim - 1]) * c.elem_size : c.elem_size;
    if (rows == 0 || row_bytes == 0) return;
    const size_t min_rows = row_bytes >= kCopyChunkBytes ? 1 : kCopyChunkBytes / row_bytes;
    parallel_for(rows, min_rows, [&](size_t b, size_t e) { k.copy_rows(c, b, e); });
  }

  size_t quantize_activations_int8(const float* x, size_t m, size_t k, size_t kp, int8_t* q, float* scale,
                              int32_t* sum) override {
    const QuantKernels& kq = quant_family().active();
    std::atomic<size_t> bad{kNone};
    const size_t min_rows = std::max<size_t>(1, kQuantChunk / std::max<size_t>(1, k));
    parallel_for(m, min_rows, [&](size_t b, size_t e) {
      const size_t r = kq.quantize_rows(x, k, k, kp, b, e, q, kp, scale, sum);
      // The smallest bad row wins whatever the chunk order, so the report is deterministic.
      size_t cur = bad.load();
      while (r < cur && !bad.compare_exchange_weak(cur, r)) {
      }
    });
    return bad.load();
  }

  size_t quantize_weights_ternary(const float* w, size_t n, size_t k, WeightScaleMode mode, int8_t* codes, float* scales) override {
    return quant_family().active().quantize_weights_ternary(w, n, k, mode, codes, scales);
  }

  size_t pack_ternary(TernaryLayout l, const int8_t* w, size_t n, size_t k, uint8_t* out) override {
    // Padding weights of tl256 rows are zeros (code 1 in every 2-bit field).
    if (l == TernaryLayout::Tl256) std::fill(out, out + packed_ternary_bytes(l, n, k), uint8_t{0x55});
    const PackKernels& kp = pack_family().active();
    return first_in_chunks(l == TernaryLayout::Hf ? n / 4 : n, k,
                           [&](size_t r0, size_t r1) { return kp.pack(l, w, n, k, r0, r1, out); });
  }

  size_t unpack_ternary(TernaryLayout l, const uint8_t* packed, size_t n, size_t k, int8_t* w) override {
    const PackKernels& kp = pack_family().active();
    return first_in_chunks(l == TernaryLayout::Hf ? n / 4 : n, k,
                           [&](size_t r0, size_t r1) { return kp.unpack(l, packed, n, k, r0, r1, w); });
  }

  void ternary_matmul(const int8_t* xq, size_t m, size_t kp, const float* x_scale, const int32_t* x_sum,
                      const uint8_t* w, size_t n, const float* w_scale, bool per_row_scale, float* out) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const TernaryKernels& kt = ternary_family().active();
    // Output rows are split in whole GEMM tiles so every thread unpacks full tiles.
    const size_t tiles = (n + kTernaryTileRows - 1) / kTernaryTileRows;
    const size_t threads = static_cast<size_t>(num_threads());
    if (scratch_.size() < threads) scratch_.resize(threads);
    // The kernels write exact int32 dots into `out` itself (same size as the floats), and each
    // thread then scales its own columns in place (the family's scale(): float64, vectorised
    // where the ISA allows): no staging buffer.
    int32_t* dots = reinterpret_cast<int32_t*>(out);
    parallel_for_indexed(tiles, 1, [&](size_t tb, size_t te, int slot) {
      const size_t n0 = tb * kTernaryTileRows, n1 = std::min(n, te * kTernaryTileRows);
      uint8_t* scratch = scratch_for(static_cast<size_t>(slot), ternary_scratch_bytes(kp, m));
      kt.dot_codes(xq, kp, m, w, kp, n0, n1, dots, n, scratch);
      for (size_t i = 0; i < m; ++i) kt.scale(out + i * n, n0, n1, x_sum[i], x_scale[i], w_scale, per_row_scale);
    });
  }

  void dense_matmul(DenseFormat f, const void* x, size_t m, size_t k, const void* w, size_t n, const float* x_scale,
                    const float* w_scale, float* out) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const DenseKernels& kd = dense_family().active();
    // Threads take whole quads of weight rows (the kernels' unit), at least 64 rows each so a
    // small matrix does not wake the pool for nothing.
    const size_t quads = (n + 3) / 4;
    parallel_for(quads, 16, [&](size_t qb, size_t qe) {
      const size_t n0 = qb * 4, n1 = std::min(n, qe * 4);
      switch (f) {
        case DenseFormat::F32:
          kd.f32(static_cast<const float*>(x), m, k, static_cast<const float*>(w), n0, n1, out, n);
          break;
        case DenseFormat::F16:
          kd.f16(static_cast<const float*>(x), m, k, static_cast<const uint16_t*>(w), n0, n1, out, n);
          break;
        case DenseFormat::Bf16:
          kd.bf16(static_cast<const float*>(x), m, k, static_cast<const uint16_t*>(w), n0, n1, out, n);
          break;
        case DenseFormat::Int8: {
          // Exact int32 dots written over the output floats, then scaled in place: float64 rounded
          // once, so every variant gives the same bits.
          int32_t* dots = reinterpret_cast<int32_t*>(out);
          kd.i8(static_cast<const int8_t*>(x), m, k, static_cast<const int8_t*>(w), n0, n1, dots, n);
          for (size_t i = 0; i < m; ++i) {
            const double xs = x_scale[i];
            for (size_t j = n0; j < n1; ++j) {
              out[i * n + j] = static_cast<float>(static_cast<double>(dots[i * n + j]) / (xs * static_cast<double>(w_scale[j])));
            }
          }
          break;
        }
      }
    });
  }

  void ternary_matmul_group(const int8_t* xq, size_t m, size_t kp, const float* x_scale, const int32_t* x_sum,
                            const TernaryOperand* ops, size_t count) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const TernaryKernels& kt = ternary_family().active();
    // Tiles of every operand, numbered one after another; each thread takes a contiguous range.
    std::vector<size_t> first(count + 1, 0);
    for (size_t o = 0; o < count; ++o) first[o + 1] = first[o] + (ops[o].n + kTernaryTileRows - 1) / kTernaryTileRows;
    const size_t threads = static_cast<size_t>(num_threads());
    if (scratch_.size() < threads) scratch_.resize(threads);
    parallel_for_indexed(first[count], 1, [&](size_t tb, size_t te, int slot) {
      uint8_t* scratch = scratch_for(static_cast<size_t>(slot), ternary_scratch_bytes(kp, m));
      for (size_t o = 0; o < count; ++o) {
        const size_t lo = std::max(tb, first[o]), hi = std::min(te, first[o + 1]);
        if (lo >= hi) continue;
        const TernaryOperand& op = ops[o];
        const size_t n0 = (lo - first[o]) * kTernaryTileRows, n1 = std::min(op.n, (hi - first[o]) * kTernaryTileRows);
        int32_t* dots = reinterpret_cast<int32_t*>(op.out);
        kt.dot_codes(xq, kp, m, op.w, kp, n0, n1, dots, op.n, scratch);
        for (size_t i = 0; i < m; ++i) kt.scale(op.out + i * op.n, n0, n1, x_sum[i], x_scale[i], op.w_scale, op.per_row_scale);
      }
    });
  }

  void sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha, const float* a, size_t lda,
             const float* b, size_t ldb, float beta, float* c, size_t ldc, bool bf16) override {
    bitnet::sgemm({trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}, bf16);
  }

  bool bf16_gemm_native() const override { return sgemm_bf16_native(); }

  void attention_forward(const AttentionShape& s, const float* q, const float* k, const float* v, float* out,
                         float* lse) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const AttentionKernels& ka = attention_family().active();
    run_attention_tasks(s, [&](size_t b, size_t g, float* scratch) { ka.forward(s, b, g, q, k, v, out, lse, scratch); });
  }

  void attention_decode(const float* q, const void* k, const void* v, bool f16, size_t kv_len, size_t q_heads,
                        size_t kv_heads, size_t head_dim, float scale, float* out) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const AttentionKernels& ka = attention_family().active();
    const size_t threads = static_cast<size_t>(num_threads());
    if (scratch_.size() < threads) scratch_.resize(threads);
    const size_t bytes = attention_decode_scratch_floats(kv_len, q_heads, kv_heads, head_dim) * sizeof(float);
    // Short caches are not worth waking the workers for.
    const size_t min_groups = kv_len * q_heads * head_dim < (1u << 15) ? kv_heads : 1;
    parallel_for_indexed(kv_heads, min_groups, [&](size_t g0, size_t g1, int slot) {
      float* scratch = reinterpret_cast<float*>(scratch_for(static_cast<size_t>(slot), bytes));
      for (size_t g = g0; g < g1; ++g) {
        if (f16) {
          ka.decode_f16(q, static_cast<const uint16_t*>(k), static_cast<const uint16_t*>(v), kv_len, q_heads, kv_heads,
                        head_dim, scale, g, out, scratch);
        } else {
          ka.decode_f32(q, static_cast<const float*>(k), static_cast<const float*>(v), kv_len, q_heads, kv_heads, head_dim,
                        scale, g, out, scratch);
        }
      }
    });
  }

  void attention_backward(const AttentionShape& s, const float* q, const float* k, const float* v, const float* out,
                          const float* lse, const float* dout, float* dq, float* dk, float* dv) override {
    std::lock_guard<std::mutex> lock(matmul_mutex_);
    const AttentionKernels& ka = attention_family().active();
    run_attention_tasks(s, [&](size_t b, size_t g, float* scratch) {
      ka.backward(s, b, g, q, k, v, out, lse, dout, dq, dk, dv, scratch);
    });
  }

  void softmax_weights(const float* z, size_t n, float max, float inv_t, float* w) override {
    const NormKernels& kn = norm_family().active();
    parallel_for(n, 1 << 14, [&](size_t i0, size_t i1) { kn.softmax_weights(z, i0, i1, max, inv_t, w); });
  }

  void cross_entropy_forward(const CrossEntropyRows& c, size_t rows, double* lse, double* loss) override {
    const NormKernels& kn = norm_family().active();
    parallel_for(rows, std::max<size_t>(1, 4096 / std::max<size_t>(c.classes, 1)),
                 [&](size_t r0, size_t r1) { kn.xent_forward(c, r0, r1, lse, loss); });
  }

  void cross_entropy_backward(const CrossEntropyRows& c, size_t rows, const double* lse, const double* scale, bool per_row_scale,
                              float* dx) override {
    const NormKernels& kn = norm_family().active();
    parallel_for(rows, std::max<size_t>(1, 4096 / std::max<size_t>(c.classes, 1)),
                 [&](size_t r0, size_t r1) { kn.xent_backward(c, lse, scale, per_row_scale, r0, r1, dx); });
  }

  void rms_norm_forward(const float* x, const float* w, size_t rows, size_t d, float eps, float* out, float* rstd) override {
    const NormKernels& kn = norm_family().active();
    const size_t chunks = (rows + kNormChunkRows - 1) / kNormChunkRows;
    parallel_for(chunks, std::max<size_t>(1, 4096 / std::max<size_t>(d, 1)), [&](size_t c0, size_t c1) {
      kn.rms_forward(x, w, c0 * kNormChunkRows, std::min(rows, c1 * kNormChunkRows), d, eps, out, rstd);
    });
  }

  void rms_norm_backward(const float* g, const float* x, const float* w, const float* rstd, size_t rows, size_t d, float* dx,
                         float* dw) override {
    const NormKernels& kn = norm_family().active();
    const size_t chunks = (rows + kNormChunkRows - 1) / kNormChunkRows;
    std::vector<double> partial(dw != nullptr ? chunks * d : 0);
    parallel_for(chunks, std::max<size_t>(1, 4096 / std::max<size_t>(d, 1)), [&](size_t c0, size_t c1) {
      kn.rms_backward(g, x, w, rstd, c0 * kNormChunkRows, std::min(rows, c1 * kNormChunkRows), d, dx,
                      dw != nullptr ? partial.data() : nullptr);
    });
    if (dw != nullptr) {
      // Chunk partials in chunk order: the same sum for every thread count.
      for (size_t k = 0; k < d; ++k) {
        double total = 0;
        for (size_t c = 0; c < chunks; ++c) total += partial[c * d + k];
        dw[k] = static_cast<float>(total);
      }
    }
  }

  void elementwise(ElementwiseOp op, const float* a, const float* b, float* out, size_t n) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    run_chunked(n, [&](size_t i0, size_t i1) { ke.map(op, a + i0, b == nullptr ? nullptr : b + i0, out + i0, i1 - i0); });
  }

  void embedding_forward(const float* w, size_t d, const int32_t* ids, size_t n, float* out) override {
    const EmbeddingKernels& k = embedding_family().active();
    split_columns(d, n, [&](size_t c0, size_t c1) { k.gather(w, d, ids, n, c0, c1, out); });
  }

  void embedding_backward(const float* g, size_t d, const int32_t* ids, size_t n, float* dw) override {
    const EmbeddingKernels& k = embedding_family().active();
    split_columns(d, n, [&](size_t c0, size_t c1) { k.scatter_add(g, d, ids, n, c0, c1, dw); });
  }

  void dequantize_ternary(const int8_t* codes, size_t n, float scale, float* out) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    run_chunked(n, [&](size_t i0, size_t i1) { ke.scale_codes(codes + i0, scale, out + i0, i1 - i0); });
  }

  void dequantize_activations(const int8_t* q, size_t rows, size_t cols, size_t kp, const float* scale, float* out) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    parallel_for(rows, std::max<size_t>(1, kConvertChunk / std::max<size_t>(cols, 1)),
                 [&](size_t r0, size_t r1) { ke.dequantize(q, r0, r1, cols, kp, scale, out); });
  }

  void rope(const float* x, float* out, size_t rows, size_t seq, size_t heads, size_t head_dim, const float* cos, const float* sin,
            size_t offset, float sign) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    parallel_for(rows, std::max<size_t>(1, kConvertChunk / std::max<size_t>(heads * head_dim, 1)),
                 [&](size_t r0, size_t r1) { ke.rope(x, out, r0, r1, seq, heads, head_dim, cos, sin, offset, sign); });
  }

  void adamw_update(float* p, const float* g, float* m, float* v, size_t n, double decay, double beta1, double beta2, double step_size,
             double bias2_sqrt, double eps) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    run_chunked(n, [&](size_t i0, size_t i1) { ke.adamw_update(p, g, m, v, i0, i1, decay, beta1, beta2, step_size, bias2_sqrt, eps); });
  }

  double sum_squares(const float* x, size_t n) override {
    const ElementwiseKernels& ke = elementwise_family().active();
    constexpr size_t kChunk = 1 << 16;
    const size_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> partial(chunks);
    parallel_for(chunks, 1, [&](size_t c0, size_t c1) {
      for (size_t c = c0; c < c1; ++c) partial[c] = ke.sum_squares(x + c * kChunk, std::min(kChunk, n - c * kChunk));
    });
    double total = 0;
    for (double p : partial) total += p;
    return total;
  }

  uint64_t stream_read(const uint8_t* data, size_t bytes) override {
    const RooflineKernels& ks = roofline_family().active();
    const size_t words = bytes / 8;
    std::atomic<uint64_t> total{0};
    // Chunks of whole 4 KiB pages so each thread streams its own contiguous range.
    parallel_for((words + 511) / 512, 16, [&](size_t b, size_t e) {
      const size_t w0 = b * 512, w1 = std::min(words, e * 512);
      total.fetch_xor(ks.read(data + w0 * 8, (w1 - w0) * 8));
    });
    return total.load();
  }

  uint64_t int8_dot_peak(uint64_t iterations) override {
    const RooflineKernels& kr = roofline_family().active();
    const size_t threads = static_cast<size_t>(num_threads());
    std::atomic<uint64_t> ops{0};
    parallel_for(threads, 1, [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) ops.fetch_add(kr.int8_dot(iterations));
    });
    return ops.load();
  }

  std::vector<FamilyInfo> families() const override {
    std::vector<FamilyInfo> out;
    for (FamilyDescriber d : family_describers()) out.push_back(d());
    std::sort(out.begin(), out.end(), [](const FamilyInfo& a, const FamilyInfo& b) { return a.name < b.name; });
    return out;
  }

 private:
  // One task per (batch, kv head): its query heads and its dK/dV rows belong to it alone.
  template <class F>
  void run_attention_tasks(const AttentionShape& s, F&& task) {
    const size_t tasks = s.batch * s.kv_heads;
    const size_t threads = static_cast<size_t>(num_threads());
    if (scratch_.size() < threads) scratch_.resize(threads);
    const size_t bytes = attention_scratch_floats(s) * sizeof(float);
    parallel_for_indexed(tasks, 1, [&](size_t t0, size_t t1, int slot) {
      float* scratch = reinterpret_cast<float*>(scratch_for(static_cast<size_t>(slot), bytes));
      for (size_t t = t0; t < t1; ++t) task(t / s.kv_heads, t % s.kv_heads, scratch);
    });
  }

  // Grow-only per-thread scratch for GEMM weight tiles. Jobs on the pool are serialised, so
  // slot t is only ever touched by the thread running chunk t.
  uint8_t* scratch_for(size_t slot, size_t bytes) {
    Scratch& s = scratch_[slot];
    if (s.bytes < bytes) {
      const size_t rounded = (bytes + 63) / 64 * 64;
      s.data.reset(static_cast<uint8_t*>(std::aligned_alloc(64, rounded)));
      if (!s.data) {
        s.bytes = 0;
        throw std::bad_alloc();
      }
      s.bytes = rounded;
    }
    return s.data.get();
  }
  struct Scratch {
    std::unique_ptr<uint8_t, FreeDeleter> data;
    size_t bytes = 0;
  };
  std::vector<Scratch> scratch_;
  std::mutex matmul_mutex_;

  // Runs f(r0, r1) over rows of `cols` elements split across the pool and returns the result of
  // the first chunk (in row order) that reports an index: what one thread walking the rows in
  // order would report, whatever the thread count.
  // Columns [0, d) of n rows in blocks of 16 (whole cache lines, so threads never share one), at
  // least ~32K elements a thread.
  template <class F>
  void split_columns(size_t d, size_t n, F&& f) {
    constexpr size_t kBlock = 16;
    const size_t blocks = (d + kBlock - 1) / kBlock;
    const size_t min_blocks = std::max<size_t>(1, size_t{32768} / std::max<size_t>(1, n * kBlock));
    parallel_for(blocks, min_blocks, [&](size_t b0, size_t b1) { f(b0 * kBlock, std::min(d, b1 * kBlock)); });
  }

  template <class F>
  size_t first_in_chunks(size_t rows, size_t cols, F&& f) {
    const size_t threads = static_cast<size_t>(num_threads());
    std::vector<size_t> found(threads, kNone);
    const size_t min_rows = std::max<size_t>(1, kConvertChunk / std::max<size_t>(1, cols));
    parallel_for_indexed(rows, min_rows, [&](size_t r0, size_t r1, int slot) { found[static_cast<size_t>(slot)] = f(r0, r1); });
    for (size_t i : found)
      if (i != kNone) return i;
    return kNone;
  }

  template <class F>
  void run_chunked(size_t n, F&& f) {
    parallel_for(n, kConvertChunk, f);
  }
};

}  // namespace

Backend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

bool metal_built() {
#ifdef BITNET_HAVE_METAL
  return true;
#else
  return false;
#endif
}

Backend& backend_for(Device device) {
  if (device == Device::Cpu) return cpu_backend();
  throw std::runtime_error(
      "device 'metal' is not available: this bitnet-lab addon was built without the Metal "
      "backend (it needs macOS and BITNET_METAL=ON); use device 'cpu' or 'auto'");
}

Backend& backend_for(const std::string& device) {
  if (device == "cpu" || device == "auto") return cpu_backend();
  if (device == "metal") {
    throw std::runtime_error(
        "device 'metal' is not available: this bitnet-lab addon was built without the Metal "
        "backend (it needs macOS and BITNET_METAL=ON); use device 'cpu' or 'auto'");
  }
  throw RangeError("device must be one of 'cpu', 'metal', 'auto', received '" + device + "'");
}

}  // namespace bitnet
