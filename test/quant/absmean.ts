// The kernel's summation order for absmean scales (native/src/cpu/quant/ref.cc, abs_sum): chunks
// of 4096 summed in sequence, each chunk as eight interleaved partial sums added pairwise. Tests
// that claim bit-exactness with the float64 recipe must add in this order.
export function absSum64(w: ArrayLike<number>, begin: number, len: number): number {
  let total = 0;
  for (let c = 0; c < len; c += 4096) {
    const p = [0, 0, 0, 0, 0, 0, 0, 0];
    const end = Math.min(len, c + 4096);
    for (let i = c; i < end; i++) p[(i - c) % 8] += Math.abs(w[begin + i]);
    total += p[0] + p[1] + (p[2] + p[3]) + (p[4] + p[5] + (p[6] + p[7]));
  }
  return total;
}
