// Integer sampling for the data pipeline, drawn from a seeded Philox Generator so that the same
// seed gives the same batches and the same shuffles on every platform.
import { describe } from "../tensor/dtype";
import { Generator } from "../tensor/random";

const TWO_NEG_53 = 2 ** -53;
const TWO_26 = 2 ** 26;

/** Throws a TypeError naming `fn` unless `generator` is a Generator. */
export function checkGenerator(fn: string, generator: unknown, arg = "generator"): Generator {
  if (!(generator instanceof Generator)) {
    throw new TypeError(`${fn}: ${arg} must be a Generator (new Generator(seed)), received ${describe(generator)}`);
  }
  return generator;
}

/**
 * `count` integers uniform in [0, high), two 32-bit words each. The words make a 53-bit float
 * in [0, 1) (the same construction as numpy's random_sample), scaled and floored: the bias is at
 * most high / 2^53, far below anything a training run can see, and every sample costs the same
 * number of words, so the stream position after a call depends only on `count`.
 */
export function uniformIntegers(generator: Generator, count: number, high: number): Float64Array {
  const words = new Uint32Array(2 * count);
  generator.nextUint32(words);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const u = ((words[2 * i] >>> 5) * TWO_26 + (words[2 * i + 1] >>> 6)) * TWO_NEG_53;
    out[i] = Math.floor(u * high);
  }
  return out;
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates, with n - 1 draws from `generator`). */
export function randomPermutation(n: number, generator: Generator): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  if (n < 2) return perm;
  const words = new Uint32Array(2 * (n - 1));
  generator.nextUint32(words);
  for (let i = n - 1, w = 0; i >= 1; i--, w += 2) {
    const u = ((words[w] >>> 5) * TWO_26 + (words[w + 1] >>> 6)) * TWO_NEG_53;
    const j = Math.floor(u * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}
