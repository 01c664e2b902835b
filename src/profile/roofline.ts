// Rooflines measured in the same process: the int8 dot chain of the active ISA and the memory
// read bandwidth, which kernel benchmarks and profiles report their speed against.
import { randomFillSync } from "node:crypto";
import * as native from "../backend/kernels";
import { Tensor } from "../tensor/tensor";

/**
 * The int8 multiply-accumulate peak of the active ISA's dot instructions (AVX2 maddubs + madd +
 * add, AVX-VNNI/AVX-512 vpdpbusd, NEON smull/smlal, sdot or smmla), operands in registers, in
 * GOPS (a multiply-add counts 2) at the current thread count: the compute roofline the
 * int8 x ternary kernels are compared against. Median of `repeats` runs of about `milliseconds`.
 */
export function measureInt8DotPeak(opts: { milliseconds?: number; repeats?: number } = {}): number {
  const fn = "measureInt8DotPeak";
  const ms = opts.milliseconds ?? 50;
  const repeats = opts.repeats ?? 5;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0 || ms > 60_000) throw new RangeError(`${fn}: milliseconds must be a number in (0, 60000], received ${String(ms)}`);
  if (typeof repeats !== "number" || !Number.isInteger(repeats) || repeats < 1) throw new RangeError(`${fn}: repeats must be an integer >= 1, received ${String(repeats)}`);
  // Calibrate the rounds per run on a short one.
  let iterations = 1000;
  for (;;) {
    const t0 = performance.now();
    native.int8DotPeak(iterations);
    const elapsed = performance.now() - t0;
    if (elapsed >= 5) {
      iterations = Math.max(1, Math.round((iterations * ms) / elapsed));
      break;
    }
    iterations *= 8;
  }
  const gops: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const ops = native.int8DotPeak(iterations);
    gops.push(ops / ((performance.now() - t0) * 1e6));
  }
  gops.sort((a, b) => a - b);
  return gops[Math.floor(gops.length / 2)];
}

/**
 * This machine's memory read bandwidth in GB/s, the roofline of memory-bound kernels (a ternary
 * GEMV reads 2 bits a weight for 2 operations: at most 8 operations per byte). Streams a buffer of
 * `megabytes` (default 256, well past the caches) of random bytes (identical pages may be merged
 * by the host and read from cache) with the native read kernel on the current threads; the
 * median of `repeats` passes (default 5) after a warm-up pass.
 */
export function measureReadBandwidth(opts: { megabytes?: number; repeats?: number } = {}): number {
  const fn = "measureReadBandwidth";
  const mb = opts.megabytes ?? 256;
  const repeats = opts.repeats ?? 5;
  if (typeof mb !== "number" || !Number.isInteger(mb) || mb < 1 || mb > 1 << 16) throw new RangeError(`${fn}: megabytes must be an integer in [1, 65536], received ${String(mb)}`);
  if (typeof repeats !== "number" || !Number.isInteger(repeats) || repeats < 1) throw new RangeError(`${fn}: repeats must be an integer >= 1, received ${String(repeats)}`);
  const bytes = mb * 1024 * 1024;
  const buf = Tensor.empty([bytes], "u8");
  try {
    const view = buf.data();
    // randomFillSync fills at most 2^31 - 1 bytes a call.
    for (let at = 0; at < bytes; at += 1 << 30) randomFillSync(view.subarray(at, Math.min(bytes, at + (1 << 30))));
    native.streamRead(view);
    const seconds: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      native.streamRead(view);
      seconds.push((performance.now() - t0) / 1000);
    }
    seconds.sort((a, b) => a - b);
    return bytes / seconds[Math.floor(seconds.length / 2)] / 1e9;
  } finally {
    buf.dispose();
  }
}
