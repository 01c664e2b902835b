// Choosing the next token from logits: repetition penalty, temperature, top-k, top-p (nucleus),
// greedy when the temperature is 0, random draws from a seeded Generator.
import * as native from "../backend/kernels";
import { Generator } from "../tensor/random";
import { describe } from "../tensor/dtype";

/** How the next token is chosen. */
export interface SamplingOptions {
  /** 0 = greedy (default 1). */
  temperature?: number;
  /** Keep the k most likely tokens (0 = all, default 0). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (default 1 = all). */
  topP?: number;
  /** > 1 makes tokens already in the context less likely (CTRL / HF rule; default 1 = off). */
  repetitionPenalty?: number;
  /** Seed of the draws (default 0). */
  seed?: number;
}

export interface ResolvedSampling {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

export function resolveSampling(fn: string, o: SamplingOptions | undefined): ResolvedSampling {
  const num = (name: keyof SamplingOptions, v: unknown, dflt: number, ok: (x: number) => boolean, what: string): number => {
    if (v === undefined) return dflt;
    if (typeof v !== "number" || !ok(v)) throw new RangeError(`${fn}: ${name} must be ${what}, received ${describe(v)}`);
    return v;
  };
  return {
    temperature: num("temperature", o?.temperature, 1, (x) => Number.isFinite(x) && x >= 0, "a finite number >= 0"),
    topK: num("topK", o?.topK, 0, (x) => Number.isInteger(x) && x >= 0, "an integer >= 0"),
    topP: num("topP", o?.topP, 1, (x) => x > 0 && x <= 1, "a number in (0, 1]"),
    repetitionPenalty: num("repetitionPenalty", o?.repetitionPenalty, 1, (x) => Number.isFinite(x) && x > 0, "a finite number > 0"),
    seed: num("seed", o?.seed, 0, (x) => Number.isSafeInteger(x) && x >= 0, "a non-negative integer"),
  };
}

/**
 * The leading token ids in descending order of z (ties by ascending id): those whose weight is at
 * least a threshold, lowered (1e-4, 1e-8, ... down to 0: every id) until `enough` accepts the set.
 * A weight is monotonic in z, so every id left out ranks below every id kept: the set is a true
 * prefix of the full order, found in a linear pass, and only it is sorted (a few hundred ids for
 * the peaked logits of a trained model, instead of a whole 128K vocabulary).
 */
function leadingIds(z: Float32Array, w: Float32Array, enough: (count: number, sum: number) => boolean): number[] {
  const v = w.length;
  for (let tau = 1e-4; ; tau = tau < 1e-280 ? 0 : tau * 1e-4) {
    const ids: number[] = [];
    let sum = 0;
    for (let i = 0; i < v; i++) {
      if (w[i] >= tau) {
        ids.push(i);
        sum += w[i];
      }
    }
    if (ids.length === v || enough(ids.length, sum)) return ids.sort((a, b) => z[b] - z[a] || a - b);
  }
}

/**
 * The next token: logits (one row, not modified) adjusted for repetition over `context`, then
 * greedy (temperature 0) or a draw from the temperature-scaled, top-k and top-p filtered softmax.
 * Filtered candidates are taken in descending order of logit (ties by id); an unfiltered draw
 * walks the vocabulary in id order. Linear in the vocabulary size, plus sorting the leading ids
 * a filter needs (see leadingIds).
 */
export function sampleToken(logits: Float32Array, s: ResolvedSampling, generator: Generator, context: ArrayLike<number>): number {
  const v = logits.length;
  let z = logits;
  if (s.repetitionPenalty !== 1) {
    z = Float32Array.from(logits);
    const seen = new Set<number>();
    for (let i = 0; i < context.length; i++) seen.add(context[i]);
    for (const t of seen) if (t >= 0 && t < v) z[t] = z[t] > 0 ? z[t] / s.repetitionPenalty : z[t] * s.repetitionPenalty;
  }
  let best = 0;
  for (let i = 1; i < v; i++) if (z[i] > z[best]) best = i;
  if (s.temperature === 0) return best;
  // Every weight once, natively: float32 exp((z - max) / T), threaded (a 128K vocabulary in
  // JavaScript took ~2 ms a token).
  const w = new Float32Array(v);
  native.softmaxWeights(z, z[best], 1 / s.temperature, w);
  const u = new Float32Array(1);
  generator.uniform(u);
  if ((s.topK === 0 || s.topK >= v) && s.topP >= 1) {
    let total = 0;
    for (let i = 0; i < v; i++) total += w[i];
    let r = u[0] * total;
    for (let i = 0; i < v; i++) if ((r -= w[i]) <= 0) return i;
    return v - 1;
  }
  const limited = s.topK > 0 && s.topK < v;
  let total = 0;
  if (!limited) for (let i = 0; i < v; i++) total += w[i];
  // Top-k needs the k leading ids; the nucleus needs leading ids holding topP of the weight (with
  // a margin over the rounding of summing them in another order).
  let order = leadingIds(z, w, (count, sum) => (limited ? count >= s.topK : sum >= s.topP * total * (1 + 1e-9)));
  if (limited) {
    order = order.slice(0, s.topK);
    for (const id of order) total += w[id];
  }
  let keep = order.length;
  if (s.topP < 1) {
    // The nucleus: the fewest leading candidates whose weight reaches topP of the total.
    let acc = 0;
    keep = 0;
    while (keep < order.length && acc < s.topP * total) acc += w[order[keep++]];
    keep = Math.max(1, keep);
    total = 0;
    for (let j = 0; j < keep; j++) total += w[order[j]];
  }
  let r = u[0] * total;
  for (let j = 0; j < keep; j++) {
    r -= w[order[j]];
    if (r <= 0) return order[j];
  }
  return order[keep - 1];
}
