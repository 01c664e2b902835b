// arm64 Advanced SIMD copy: 4 x 4 tiles of 4-byte elements transposed in registers (trn1/trn2 of
// words, then of doublewords); other sizes in plain 8 x 8 tile loops (impl.h).
#include <arm_neon.h>

#include "cpu/copy/impl.h"

namespace bitnet {
namespace {

struct Tile32 {
  static constexpr size_t kSize = 4;
  static void run(const uint32_t* src, int64_t scs, uint32_t* dst, int64_t drs) {
    const uint32x4_t e0 = vld1q_u32(src), e1 = vld1q_u32(src + scs), e2 = vld1q_u32(src + 2 * scs), e3 = vld1q_u32(src + 3 * scs);
    const uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(e0, e1)), t1 = vreinterpretq_u64_u32(vtrn2q_u32(e0, e1));
    const uint64x2_t t2 = vreinterpretq_u64_u32(vtrn1q_u32(e2, e3)), t3 = vreinterpretq_u64_u32(vtrn2q_u32(e2, e3));
    vst1q_u32(dst, vreinterpretq_u32_u64(vtrn1q_u64(t0, t2)));
    vst1q_u32(dst + drs, vreinterpretq_u32_u64(vtrn1q_u64(t1, t3)));
    vst1q_u32(dst + 2 * drs, vreinterpretq_u32_u64(vtrn2q_u64(t0, t2)));
    vst1q_u32(dst + 3 * drs, vreinterpretq_u32_u64(vtrn2q_u64(t1, t3)));
  }
};

template <class T>
struct Tiles : copy_impl::LoopTile<T, 8> {};
template <>
struct Tiles<uint32_t> : Tile32 {};

void copy_rows(const StridedCopy& c, size_t row_begin, size_t row_end) { copy_impl::copy_rows<Tiles>(c, row_begin, row_end); }

}  // namespace

const CopyKernels kCopyNeon = {copy_rows};

}  // namespace bitnet
