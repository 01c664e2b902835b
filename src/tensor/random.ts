import { describe } from "../validate";
/**
 * Counter-based random numbers: Philox4x32-10 (Salmon, Moraes, Dror and Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11; the Random123 library).
 *
 * Philox is used instead of a stateful generator because each block of output
 * is a pure function of (key, counter). That makes streams reproducible from a
 * (seed, offset) pair alone, lets any range of the stream be produced without
 * generating what comes before it, and keeps results bit-identical with native
 * or GPU Philox implementations that follow Random123.
 *
 * Everything here is integer arithmetic except the final float transforms, so
 * the raw word stream is identical on every platform. The float transforms use
 * `Math.log`/`Math.cos`/`Math.sin`; V8 implements these with its own fdlibm
 * port, so results match across operating systems for a given Node/V8, but
 * other JavaScript engines are not guaranteed to agree in the last bit.
 *
 * @packageDocumentation
 */

/** Round multiplier applied to counter word 0 (Random123 `PHILOX_M4x32_0`). */
const M0 = 0xd2511f53;
/** Round multiplier applied to counter word 2 (Random123 `PHILOX_M4x32_1`). */
const M1 = 0xcd9e8d57;
/** Weyl increment of key word 0 (golden ratio; Random123 `PHILOX_W32_0`). */
const W0 = 0x9e3779b9 | 0;
/** Weyl increment of key word 1 (sqrt(3) - 1; Random123 `PHILOX_W32_1`). */
const W1 = 0xbb67ae85 | 0;

// 16-bit halves of the multipliers, for the exact high word of the product.
const M0_HI = M0 >>> 16;
const M0_LO = M0 & 0xffff;
const M1_HI = M1 >>> 16;
const M1_LO = M1 & 0xffff;

const TWO_NEG_16 = 2 ** -16;
const TWO_NEG_24 = 2 ** -24;
const TWO_NEG_32 = 2 ** -32;
const TWO_32 = 2 ** 32;
const TWO_PI = 2 * Math.PI;
const UINT64_LIMIT = 1n << 64n;
const UINT32_MASK = 0xffffffffn;

/** Random123 static-asserts R <= 16 in its unrolled philox4x32_R. */
const MAX_ROUNDS = 16;

/**
 * Words per chunk when a float transform needs the raw stream first. A
 * multiple of 4 so that chunk boundaries coincide with block boundaries and
 * the counter continues seamlessly; large enough to amortise call overhead,
 * small enough to stay in L1.
 */
const CHUNK_WORDS = 4096;

/**
 * Scratch space for the float transforms, allocated once so filling a tensor
 * never allocates. Sharing it is safe: JavaScript runs these loops to
 * completion without yielding, and each worker thread gets its own module.
 */
const scratchWords = new Uint32Array(CHUNK_WORDS);

// Bit views used to step a float32 down by one ulp.
const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/**
 * The only implementation of the Philox rounds, shared by {@link philox4x32}
 * and the generator so the known-answer tests cover the code that fills
 * tensors. Writes `nWords` words into `out[start...]` for key (k0, k1),
 * starting at counter (ctrLo, ctrHi, c2In, c3In) and incrementing the 64-bit
 * (ctrLo, ctrHi) block number per block; words beyond `nWords` in a final
 * partial block are dropped.
 *
 * Everything lives in locals so V8 keeps the state in registers and the loop
 * allocates nothing.
 *
 * JavaScript has no 32x32->64 multiply, and the float64 product a*M (up to
 * 2^64) loses low bits, which can flip the high word. Splitting M into 16-bit
 * halves keeps every intermediate below 2^49, so all of it is exact in
 * float64:  hi = floor((a*M_hi + floor(a*M_lo / 2^16)) / 2^16)  (the inner
 * floor is harmless because a*M_hi is an integer). `Math.imul` supplies the
 * exact low word. Measured faster in V8 than correcting the rounded float64
 * product with the low word, and exact by construction.
 */
function philoxFill(
  k0: number,
  k1: number,
  ctrLo: number,
  ctrHi: number,
  c2In: number,
  c3In: number,
  rounds: number,
  out: Uint32Array,
  start: number,
  nWords: number,
): void {
  let lo = ctrLo >>> 0;
  let hi = ctrHi >>> 0;
  const end = start + nWords;
  for (let pos = start; pos < end; pos += 4) {
    let c0 = lo | 0;
    let c1 = hi | 0;
    let c2 = c2In | 0;
    let c3 = c3In | 0;
    let ka = k0 | 0;
    let kb = k1 | 0;
    for (let r = 0; r < rounds; r++) {
      if (r !== 0) {
        ka = (ka + W0) | 0;
        kb = (kb + W1) | 0;
      }
      const a0 = c0 >>> 0;
      const a2 = c2 >>> 0;
      const lo0 = Math.imul(a0, M0);
      const hi0 = Math.floor((a0 * M0_HI + Math.floor(a0 * M0_LO * TWO_NEG_16)) * TWO_NEG_16);
      const lo1 = Math.imul(a2, M1);
      const hi1 = Math.floor((a2 * M1_HI + Math.floor(a2 * M1_LO * TWO_NEG_16)) * TWO_NEG_16);
      c0 = hi1 ^ c1 ^ ka;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ kb;
      c3 = lo0;
    }
    const left = end - pos;
    if (left >= 4) {
      out[pos] = c0;
      out[pos + 1] = c1;
      out[pos + 2] = c2;
      out[pos + 3] = c3;
    } else {
      // Final partial block: the rest of its words are intentionally discarded.
      out[pos] = c0;
      if (left > 1) out[pos + 1] = c1;
      if (left > 2) out[pos + 2] = c2;
    }
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0; // 64-bit block counter wraps mod 2^64
  }
}

/**
 * Compute one Philox4x32 block exactly as Random123's `philox4x32_R`.
 *
 * Word order follows Random123: `counter[0]` and `key[0]` are the first words
 * of their arrays, and output word i corresponds to Random123's `ctr.v[i]`.
 * `out` may be the same array as `counter`. The high word of each product is
 * computed exactly from 16-bit halves of the multiplier (see `philoxFill`).
 *
 * @param counter - 4 counter words (uint32).
 * @param key - 2 key words (uint32).
 * @param out - receives the 4 output words.
 * @param rounds - number of Philox rounds, 0..16; 10 is the standard,
 *   Crush-resistant choice ("Philox4x32-10").
 * @throws RangeError if an array has the wrong length or `rounds` is not an
 *   integer in [0, 16].
 */
export function philox4x32(
  counter: Uint32Array,
  key: Uint32Array,
  out: Uint32Array,
  rounds = 10,
): void {
  if (counter.length !== 4) {
    throw new RangeError(`counter must have length 4; received length ${counter.length}`);
  }
  if (key.length !== 2) {
    throw new RangeError(`key must have length 2; received length ${key.length}`);
  }
  if (out.length !== 4) {
    throw new RangeError(`out must have length 4; received length ${out.length}`);
  }
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > MAX_ROUNDS) {
    throw new RangeError(
      `rounds must be an integer in [0, ${MAX_ROUNDS}]; received ${describe(rounds)}`,
    );
  }
  // Plain values are passed, so `out` may alias `counter`.
  philoxFill(key[0]!, key[1]!, counter[0]!, counter[1]!, counter[2]!, counter[3]!, rounds, out, 0, 4);
}

/** Serializable position of a {@link Generator} in its stream. */
export interface GeneratorState {
  /** 64-bit seed; becomes the Philox key (low word, high word). */
  seed: bigint;
  /** Number of 4-word blocks consumed so far (64-bit). */
  offset: bigint;
}

/**
 * `out` must be a typed array of the expected kind: any object with a huge `length` would
 * otherwise be filled element by element for ever.
 */
function checkOut(fn: string, out: unknown, Ctor: Float32ArrayConstructor | Uint32ArrayConstructor): void {
  if (!(out instanceof Ctor)) throw new TypeError(`${fn}: out must be a ${Ctor.name}, received ${describe(out)}`);
}

/**
 * Normalise a 64-bit unsigned quantity given as number or bigint, throwing a
 * RangeError that names the argument. Numbers must be safe integers because
 * anything larger has already lost bits and would silently alias another seed.
 */
function toUint64(name: string, value: unknown): bigint {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  } else if (typeof value === "bigint") {
    if (value >= 0n && value < UINT64_LIMIT) return value;
  }
  throw new RangeError(
    `${name} must be a non-negative safe integer or a bigint in [0, 2^64); ` +
      `received ${describe(value)}`,
  );
}

/** A wrong type (not a number) is a TypeError; a number that is not finite is a RangeError. */
function requireFinite(name: string, value: unknown): void {
  if (typeof value !== "number") {
    throw new TypeError(`${name} must be a finite number; received ${describe(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number; received ${describe(value)}`);
  }
}

/**
 * Validates the bounds {@link Generator.uniform} takes, without touching any stream.
 *
 * @throws TypeError if low or high is not a number; RangeError unless both are finite,
 *   low < high and high - low is finite.
 */
export function checkUniformBounds(low: unknown, high: unknown): void {
  requireFinite("low", low);
  requireFinite("high", high);
  if (!((low as number) < (high as number))) {
    throw new RangeError(
      `low must be less than high; received low=${describe(low)}, high=${describe(high)}`,
    );
  }
  if (!Number.isFinite((high as number) - (low as number))) {
    throw new RangeError(
      `high - low must be finite; received low=${describe(low)}, high=${describe(high)}`,
    );
  }
}

/**
 * Validates the parameters {@link Generator.normal} takes, without touching any stream.
 *
 * @throws TypeError if mean or std is not a number; RangeError if mean is not finite or std
 *   is not finite and >= 0.
 */
export function checkNormalParams(mean: unknown, std: unknown): void {
  requireFinite("mean", mean);
  const message = `std must be a finite, non-negative number; received ${describe(std)}`;
  if (typeof std !== "number") throw new TypeError(message);
  if (!Number.isFinite(std) || std < 0) throw new RangeError(message);
}

/** Largest float32 strictly below `x` (x finite). */
function float32Below(x: number): number {
  const f = Math.fround(x);
  if (f < x) return f;
  if (f === 0) return -(2 ** -149); // smallest subnormal below +-0
  f32Bits[0] = f;
  // For IEEE floats the bit pattern is monotonic in magnitude.
  const bits = u32Bits[0]!;
  u32Bits[0] = f > 0 ? bits - 1 : bits + 1;
  return f32Bits[0]!;
}

/**
 * Philox4x32-10 random number generator with an explicit (seed, offset) state.
 *
 * The key is the 64-bit seed split into (low, high) 32-bit words. Block `b` of
 * the stream is `philox4x32([b_lo, b_hi, 0, 0], key)`; its four words are
 * emitted in order. `offset` counts whole blocks consumed, and every call
 * consumes whole blocks, so the output of a call depends only on the seed, the
 * offset at call time and the requested length — not on earlier call sizes.
 * The offset wraps modulo 2^64 (after 2^66 words).
 */
export class Generator {
  #seed = 0n;
  #keyLo = 0;
  #keyHi = 0;
  #offsetLo = 0;
  #offsetHi = 0;

  /**
   * @param seed - non-negative safe integer or bigint below 2^64.
   * @throws RangeError if `seed` is out of range or not an integer.
   */
  constructor(seed: number | bigint = 0) {
    this.manualSeed(seed);
  }

  /**
   * Reseed and rewind: sets the seed and resets the offset to 0, so the
   * generator replays the same stream as `new Generator(seed)`.
   *
   * @throws RangeError if `seed` is out of range or not an integer.
   */
  manualSeed(seed: number | bigint): void {
    this.#setSeed(toUint64("seed", seed));
    this.#offsetLo = 0;
    this.#offsetHi = 0;
  }

  /** The 64-bit seed (Philox key) as a bigint. */
  get seed(): bigint {
    return this.#seed;
  }

  /** Number of 4-word blocks consumed so far (64-bit). */
  get offset(): bigint {
    return (BigInt(this.#offsetHi) << 32n) | BigInt(this.#offsetLo);
  }

  /** Snapshot of the generator position; pass to {@link Generator.setState} to replay. */
  getState(): GeneratorState {
    return { seed: this.#seed, offset: this.offset };
  }

  /**
   * Restore a position captured by {@link Generator.getState} (or construct
   * one, e.g. to jump directly to block `offset` of a stream).
   *
   * Validation happens before any field changes, so a rejected state leaves
   * the generator untouched.
   *
   * @throws RangeError if `seed` or `offset` is not an integer in [0, 2^64).
   */
  setState(state: GeneratorState): void {
    const seed = toUint64("seed", state.seed);
    const offset = toUint64("offset", state.offset);
    this.#setSeed(seed);
    this.#offsetLo = Number(offset & UINT32_MASK);
    this.#offsetHi = Number(offset >> 32n);
  }

  /**
   * Fill `out` with raw 32-bit words of the stream, advancing the offset by
   * `ceil(out.length / 4)` blocks (leftover words of the last block are
   * discarded).
   */
  nextUint32(out: Uint32Array): void {
    checkOut("Generator.nextUint32", out, Uint32Array);
    this.#fill(out, 0, out.length);
  }

  /**
   * Fill `out` with uniform samples from [low, high).
   *
   * Each word x gives u = (x >>> 8) * 2^-24, which is exactly representable in
   * float32 and never 1; the affine map is done in float64 and rounded once
   * to float32. When that rounding reaches `high` (or passes it, if `high`
   * is not a float32) the value is clamped to the largest float32 below
   * `high`, so the half-open interval is honoured after storage.
   * Consumes `ceil(out.length / 4)` blocks.
   *
   * @throws TypeError if low or high is not a number; RangeError unless both
   *   are finite, low < high and high - low is finite.
   */
  uniform(out: Float32Array, low = 0, high = 1): void {
    checkOut("Generator.uniform", out, Float32Array);
    checkUniformBounds(low, high);
    const span = high - low;
    const below = float32Below(high);
    const n = out.length;
    const words = scratchWords;
    for (let base = 0; base < n; base += CHUNK_WORDS) {
      const count = Math.min(CHUNK_WORDS, n - base);
      this.#fill(words, 0, count);
      for (let i = 0; i < count; i++) {
        const v = Math.fround(low + span * ((words[i]! >>> 8) * TWO_NEG_24));
        out[base + i] = v >= high ? below : v;
      }
    }
  }

  /**
   * Fill `out` with normal samples N(mean, std^2) via Box–Muller in float64.
   *
   * Words are consumed in pairs (x0, x1): u1 = (x0 + 1) * 2^-32 lies in (0, 1]
   * so the logarithm is always finite, u2 = x1 * 2^-32, and the pair yields
   * r cos(2 pi u2) then r sin(2 pi u2) with r = sqrt(-2 ln u1). Using both
   * values halves the cost; for odd lengths the final sine is discarded.
   * Consumes `ceil(out.length / 4)` blocks, the same as the other methods,
   * since the 2 * ceil(n / 2) words used always fit in those blocks.
   *
   * @throws TypeError if `mean` or `std` is not a number; RangeError if
   *   `mean` is not finite or `std` is not finite and >= 0.
   */
  normal(out: Float32Array, mean = 0, std = 1): void {
    checkOut("Generator.normal", out, Float32Array);
    checkNormalParams(mean, std);
    const n = out.length;
    const totalWords = 2 * Math.ceil(n / 2);
    const words = scratchWords;
    // CHUNK_WORDS is even, so pairs never straddle chunks.
    for (let base = 0; base < totalWords; base += CHUNK_WORDS) {
      const count = Math.min(CHUNK_WORDS, totalWords - base);
      this.#fill(words, 0, count);
      for (let i = 0; i < count; i += 2) {
        const u1 = (words[i]! + 1) * TWO_NEG_32;
        const theta = TWO_PI * (words[i + 1]! * TWO_NEG_32);
        const r = Math.sqrt(-2 * Math.log(u1));
        const j = base + i;
        out[j] = mean + std * (r * Math.cos(theta));
        if (j + 1 < n) out[j + 1] = mean + std * (r * Math.sin(theta));
      }
    }
  }

  #setSeed(seed: bigint): void {
    this.#seed = seed;
    this.#keyLo = Number(seed & UINT32_MASK);
    this.#keyHi = Number(seed >> 32n);
  }

  /** Generate `nWords` stream words into `out[start...]` and advance the offset. */
  #fill(out: Uint32Array, start: number, nWords: number): void {
    if (nWords <= 0) return;
    philoxFill(
      this.#keyLo,
      this.#keyHi,
      this.#offsetLo,
      this.#offsetHi,
      0,
      0,
      10,
      out,
      start,
      nWords,
    );
    const blocks = Math.ceil(nWords / 4);
    // Typed-array lengths are < 2^53, so this sum is exact before the split.
    const lo = this.#offsetLo + blocks;
    this.#offsetLo = lo % TWO_32;
    this.#offsetHi = (this.#offsetHi + Math.floor(lo / TWO_32)) % TWO_32;
  }
}

/**
 * Process-wide generator (seed 0) used when callers do not supply their own.
 * Reseed it with {@link manualSeed}.
 */
export const defaultGenerator: Generator = new Generator(0);

/**
 * Reseed {@link defaultGenerator} and reset its offset to 0, making all
 * subsequent default-generator draws reproducible.
 *
 * @throws RangeError if `seed` is not a non-negative safe integer or a bigint
 *   below 2^64.
 */
export function manualSeed(seed: number | bigint): void {
  defaultGenerator.manualSeed(seed);
}
