// Choosing the next token from logits: repetition penalty, temperature, top-k, top-p (nucleus),
// greedy when the temperature is 0, random draws from a seeded Generator.
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
 * The next token: logits (one row, not modified) adjusted for repetition over `context`, then
 * greedy (temperature 0) or a draw from the temperature-scaled, top-k and top-p filtered softmax.
 */
export function sampleToken(logits: Float32Array, s: ResolvedSampling, generator: Generator, context: ArrayLike<number>): number {
  const v = logits.length;
  const z = Float64Array.from(logits);
  if (s.repetitionPenalty !== 1) {
    const seen = new Set<number>();
    for (let i = 0; i < context.length; i++) seen.add(context[i]);
    for (const t of seen) if (t >= 0 && t < v) z[t] = z[t] > 0 ? z[t] / s.repetitionPenalty : z[t] * s.repetitionPenalty;
  }
  if (s.temperature === 0) {
    let best = 0;
    for (let i = 1; i < v; i++) if (z[i] > z[best]) best = i;
    return best;
  }
  // Candidates by descending logit (ties by id, so the order is deterministic).
  let order = Array.from({ length: v }, (_, i) => i).sort((a, b) => z[b] - z[a] || a - b);
  if (s.topK > 0 && s.topK < v) order = order.slice(0, s.topK);
  const max = z[order[0]];
  const p = order.map((i) => Math.exp((z[i] - max) / s.temperature));
  let total = p.reduce((a, b) => a + b, 0);
  if (s.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < p.length && acc < s.topP * total) acc += p[keep++];
    order = order.slice(0, Math.max(1, keep));
    p.length = order.length;
    total = p.reduce((a, b) => a + b, 0);
  }
  const u = new Float32Array(1);
  generator.uniform(u);
  let r = u[0] * total;
  for (let j = 0; j < order.length; j++) {
    r -= p[j];
    if (r <= 0) return order[j];
  }
  return order[order.length - 1];
}
