// The blocked sgemm driver shared by every micro-kernel variant (Goto/BLIS loop order):
//   for each NC block of columns, for each KC block of k: pack op(B)[KC x NC] into NR panels;
//     for each MC block of rows: pack alpha * op(A)[MC x KC] into MR panels;
//       for each NR panel: for each MR panel (the A block stays in L2): micro-kernel.
// Threads split C by whole MR row panels (or NR column panels when C is short and wide), never
// k, so each element's summation order - and the result - is the same for every thread count.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "core/thread_pool.h"
#include "cpu/gemm/gemm.h"

namespace bitnet {
namespace {

constexpr size_t kKc = 512;   // fewer passes over C; the 64 KiB B micro-panel streams from L2 (measured: +5% at K = 1024 over 256)
constexpr size_t kMc = 120;   // A block 120 x 512 x 4 B = 240 KiB: inside the 1 MiB L2
constexpr size_t kNc = 4096;  // B block 512 x 4096 x 4 B = 8 MiB: L3, bounds scratch for huge N

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

struct Scratch {
  std::unique_ptr<float, FreeDeleter> a, b;
  size_t a_floats = 0, b_floats = 0;
};

float* grow(std::unique_ptr<float, FreeDeleter>& p, size_t& have, size_t need) {
  if (have < need) {
    const size_t bytes = (need * sizeof(float) + 63) / 64 * 64;
    p.reset(static_cast<float*>(std::aligned_alloc(64, bytes)));
    if (!p) {
      have = 0;
      throw std::bad_alloc();
    }
    have = need;
  }
  return p.get();
}

std::vector<Scratch>& scratch_slots() {
  static std::vector<Scratch> slots;
  return slots;
}
std::mutex& gemm_mutex() {
  static std::mutex m;
  return m;
}

static inline uint16_t to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);                  // nearest even
}
// alpha * op(A)[i0 .. i0+rows, p0 .. p0+kc] into MR-row panels, zero padded to whole panels.
void pack_a(const GemmArgs& g, size_t i0, size_t rows, size_t p0, size_t kc, size_t mr, float* out) {
  for (size_t ip = 0; ip < rows; ip += mr) {
    const size_t r = std::min(mr, rows - ip);
    float* panel = out + ip * kc;
    for (size_t k = 0; k < kc; ++k) {
      float* dst = panel + k * mr;
      if (g.trans_a) {
        const float* src = g.a + (p0 + k) * g.lda + i0 + ip;
        for (size_t i = 0; i < r; ++i) dst[i] = g.alpha * src[i];
      } else {
        const float* src = g.a + (i0 + ip) * g.lda + p0 + k;
        for (size_t i = 0; i < r; ++i) dst[i] = g.alpha * src[i * g.lda];
      }
      for (size_t i = r; i < mr; ++i) dst[i] = 0.0f;
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+cols] into NR-column panels, zero padded.
void pack_b(const GemmArgs& g, size_t p0, size_t kc, size_t j0, size_t cols, size_t nr, float* out) {
  for (size_t jp = 0; jp < cols; jp += nr) {
    const size_t c = std::min(nr, cols - jp);
    float* panel = out + jp * kc;
    if (g.trans_b) {
      // op(B)[k, j] = B[j, k]: walk each source row along k, scatter into the panel.
      for (size_t j = 0; j < c; ++j) {
        const float* src = g.b + (j0 + jp + j) * g.ldb + p0;
        for (size_t k = 0; k < kc; ++k) panel[k * nr + j] = src[k];
      }
      for (size_t k = 0; k < kc; ++k)
        for (size_t j = c; j < nr; ++j) panel[k * nr + j] = 0.0f;
    } else {
      for (size_t k = 0; k < kc; ++k) {
        const float* src = g.b + (p0 + k) * g.ldb + j0 + jp;
        float* dst = panel + k * nr;
        std::memcpy(dst, src, c * sizeof(float));
        for (size_t j = c; j < nr; ++j) dst[j] = 0.0f;
      }
    }
  }
}


// Scalar packing primitives (variants without their own): see GemmKernels.
void interleave_bf16_scalar(const float* r0, const float* r1, size_t n, float alpha, uint16_t* out) {
  for (size_t j = 0; j < n; ++j) {
    out[2 * j] = to_bf16(alpha * r0[j]);
    out[2 * j + 1] = r1 == nullptr ? 0 : to_bf16(alpha * r1[j]);
  }
}

void pairs_bf16_scalar(const float* row, size_t n, float alpha, uint16_t* out, size_t stride) {
  for (size_t e = 0; e < n; e += 2) {
    out[(e / 2) * stride] = to_bf16(alpha * row[e]);
    out[(e / 2) * stride + 1] = e + 1 < n ? to_bf16(alpha * row[e + 1]) : 0;
  }
}

// alpha * op(A)[i0 .. i0+rows, p0 .. p0+kc] as bf16 pairs in MR-row panels (k and rows zero padded).
void pack_a_bf16(const GemmKernels& kt, const GemmArgs& g, size_t i0, size_t rows, size_t p0, size_t kc, uint16_t* out) {
  const size_t mr = kt.mr, kc2 = (kc + 1) / 2;
  const auto interleave = kt.interleave_bf16 ? kt.interleave_bf16 : interleave_bf16_scalar;
  const auto pairs = kt.pairs_bf16 ? kt.pairs_bf16 : pairs_bf16_scalar;
  for (size_t ip = 0; ip < rows; ip += mr) {
    const size_t r = std::min(mr, rows - ip);
    uint16_t* panel = out + ip * 2 * kc2;
    if (r < mr) std::memset(panel, 0, kc2 * 2 * mr * sizeof(uint16_t));
    if (g.trans_a) {
      // op(A)[i, k] = A[k, i]: storage rows k and k + 1 are contiguous over i.
      for (size_t kk = 0; kk < kc2; ++kk) {
        const float* r0 = g.a + (p0 + 2 * kk) * g.lda + i0 + ip;
        const float* r1 = 2 * kk + 1 < kc ? r0 + g.lda : nullptr;
        interleave(r0, r1, r, g.alpha, panel + kk * 2 * mr);
      }
    } else {
      for (size_t i = 0; i < r; ++i) pairs(g.a + (i0 + ip + i) * g.lda + p0, kc, g.alpha, panel + 2 * i, 2 * mr);
    }
  }
}

// op(B)[p0 .. p0+kc, j0 .. j0+cols] as bf16 pairs in NR-column panels (zero padded).
void pack_b_bf16(const GemmKernels& kt, const GemmArgs& g, size_t p0, size_t kc, size_t j0, size_t cols, uint16_t* out) {
  const size_t nr = kt.nr, kc2 = (kc + 1) / 2;
  const auto interleave = kt.interleave_bf16 ? kt.interleave_bf16 : interleave_bf16_scalar;
  const auto pairs = kt.pairs_bf16 ? kt.pairs_bf16 : pairs_bf16_scalar;
  for (size_t jp = 0; jp < cols; jp += nr) {
    const size_t c = std::min(nr, cols - jp);
    uint16_t* panel = out + jp * 2 * kc2;
    if (c < nr) std::memset(panel, 0, kc2 * 2 * nr * sizeof(uint16_t));
    if (g.trans_b) {
      for (size_t j = 0; j < c; ++j) pairs(g.b + (j0 + jp + j) * g.ldb + p0, kc, 1.0f, panel + 2 * j, 2 * nr);
    } else {
      for (size_t kk = 0; kk < kc2; ++kk) {
        const float* r0 = g.b + (p0 + 2 * kk) * g.ldb + j0 + jp;
        const float* r1 = 2 * kk + 1 < kc ? r0 + g.ldb : nullptr;
        interleave(r0, r1, c, 1.0f, panel + kk * 2 * nr);
      }
    }
  }
}

// What the float and the bf16 paths differ in: the panel element, the packing and the tile
// kernel. A panel holds panel_k(kc) elements per row or column (bf16 pads k to pairs).
struct F32Path {
  using T = float;
  static size_t panel_k(size_t kc) { return kc; }
  static void pack_a(const GemmKernels& kt, const GemmArgs& g, size_t i0, size_t rows, size_t p0, size_t kc, T* out) {
    bitnet::pack_a(g, i0, rows, p0, kc, kt.mr, out);
  }
  static void pack_b(const GemmKernels& kt, const GemmArgs& g, size_t p0, size_t kc, size_t j0, size_t cols, T* out) {
    bitnet::pack_b(g, p0, kc, j0, cols, kt.nr, out);
  }
  static void micro(const GemmKernels& kt, size_t kc, const T* a, const T* b, float* c, size_t ldc, float beta) {
    kt.micro(kc, a, b, c, ldc, beta);
  }
};

struct Bf16Path {
  using T = uint16_t;
  static size_t panel_k(size_t kc) { return (kc + 1) / 2 * 2; }
  static void pack_a(const GemmKernels& kt, const GemmArgs& g, size_t i0, size_t rows, size_t p0, size_t kc, T* out) {
    pack_a_bf16(kt, g, i0, rows, p0, kc, out);
  }
  static void pack_b(const GemmKernels& kt, const GemmArgs& g, size_t p0, size_t kc, size_t j0, size_t cols, T* out) {
    pack_b_bf16(kt, g, p0, kc, j0, cols, out);
  }
  static void micro(const GemmKernels& kt, size_t kc, const T* a, const T* b, float* c, size_t ldc, float beta) {
    kt.micro_bf16((kc + 1) / 2, a, b, c, ldc, beta);
  }
};

// C[i0 .. i1, j0 .. j1] for one thread. bf16 panels take half the bytes of float ones, so both
// paths share the float scratch.
template <class P>
void gemm_block(const GemmKernels& kt, const GemmArgs& g, size_t i0, size_t i1, size_t j0, size_t j1, Scratch& s) {
  using T = typename P::T;
  const size_t mr = kt.mr, nr = kt.nr;
  const size_t mc_max = std::max(mr, kMc / mr * mr);
  for (size_t jc = j0; jc < j1; jc += kNc) {
    const size_t nc = std::min(kNc, j1 - jc);
    const size_t nc_pad = (nc + nr - 1) / nr * nr;
    for (size_t pc = 0; pc < g.k; pc += kKc) {
      const size_t kc = std::min(kKc, g.k - pc), kp = P::panel_k(kc);
      T* bp = reinterpret_cast<T*>(grow(s.b, s.b_floats, kKc * ((std::min(kNc, j1 - j0) + nr - 1) / nr * nr)));
      P::pack_b(kt, g, pc, kc, jc, nc, bp);
      const float beta = pc == 0 ? g.beta : 1.0f;
      for (size_t ic = i0; ic < i1; ic += mc_max) {
        const size_t mc = std::min(mc_max, i1 - ic);
        T* ap = reinterpret_cast<T*>(grow(s.a, s.a_floats, kKc * mc_max));
        P::pack_a(kt, g, ic, mc, pc, kc, ap);
        for (size_t jr = 0; jr < nc_pad; jr += nr) {
          const size_t cols = std::min(nr, nc - jr);
          for (size_t ir = 0; ir < mc; ir += mr) {
            const size_t rows = std::min(mr, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            const T* at = ap + ir * kp;
            const T* bt = bp + jr * kp;
            if (rows == mr && cols == nr) {
              P::micro(kt, kc, at, bt, c, g.ldc, beta);
            } else {
              alignas(64) float tile[16 * 64];
              P::micro(kt, kc, at, bt, tile, nr, 0.0f);
              for (size_t i = 0; i < rows; ++i)
                for (size_t j = 0; j < cols; ++j)
                  c[i * g.ldc + j] = beta == 0.0f ? tile[i * nr + j] : tile[i * nr + j] + beta * c[i * g.ldc + j];
            }
          }
        }
      }
    }
  }
}

void run_block(bool bf16, const GemmKernels& kt, const GemmArgs& g, size_t i0, size_t i1, size_t j0, size_t j1, Scratch& s) {
  // Without bf16 instructions a bf16 product would only round the operands for no speed (the
  // rounding cost ~4% of a training step on AVX2): it runs in fp32.
  if (bf16 && kt.micro_bf16 != nullptr) gemm_block<Bf16Path>(kt, g, i0, i1, j0, j1, s);
  else gemm_block<F32Path>(kt, g, i0, i1, j0, j1, s);
}

}  // namespace

bool sgemm_bf16_native() { return gemm_family().active().micro_bf16 != nullptr; }

size_t gemm_scratch_bytes() { return (kKc * kNc + kKc * kMc) * sizeof(float); }

void sgemm(const GemmArgs& g, bool bf16) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0 || g.alpha == 0.0f) {
    // C = beta * C (beta == 0 writes zeros without reading C, like BLAS).
    for (size_t i = 0; i < g.m; ++i)
      for (size_t j = 0; j < g.n; ++j) g.c[i * g.ldc + j] = g.beta == 0.0f ? 0.0f : g.beta * g.c[i * g.ldc + j];
    return;
  }
  std::lock_guard<std::mutex> lock(gemm_mutex());
  const GemmKernels& kt = gemm_family().active();
  const size_t threads = static_cast<size_t>(num_threads());
  auto& slots = scratch_slots();
  if (slots.size() < threads) slots.resize(threads);
  const size_t row_panels = (g.m + kt.mr - 1) / kt.mr;
  const size_t col_panels = (g.n + kt.nr - 1) / kt.nr;
  // Split rows unless there are too few row panels to keep every thread busy.
  if (row_panels >= 4 * threads || row_panels >= col_panels) {
    parallel_for_indexed(row_panels, 1, [&](size_t b, size_t e, int slot) {
      run_block(bf16, kt, g, b * kt.mr, std::min(g.m, e * kt.mr), 0, g.n, slots[static_cast<size_t>(slot)]);
    });
  } else {
    parallel_for_indexed(col_panels, 1, [&](size_t b, size_t e, int slot) {
      run_block(bf16, kt, g, 0, g.m, b * kt.nr, std::min(g.n, e * kt.nr), slots[static_cast<size_t>(slot)]);
    });
  }
}

}  // namespace bitnet
