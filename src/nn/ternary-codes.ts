// The ternary-code histogram of latent weights: each weight quantized as BitLinear's forward
// pass quantizes it, then charted by src/viz (which takes the codes as plain data).
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { quantizeWeightsTernary } from "../quant";
import { Chart } from "../viz/chart";
import { COMMON_KEYS, TernaryHistogramOptions, checkLayerNames, checkOptions, codesOf, ternaryChart } from "../viz/builders";

/**
 * Quantizes each named 2-D f32 weight with {@link quantizeWeightsTernary} (per-tensor absmean,
 * as BitLinear does) and charts the fractions of -1 / 0 / +1 codes per weight. The codes are
 * disposed as soon as they are counted.
 */
export function ternaryHistogramFromWeights(named: readonly (readonly [string, Tensor])[], opts?: TernaryHistogramOptions): Chart {
  const fn = "ternaryHistogramFromWeights";
  checkOptions(fn, opts, COMMON_KEYS);
  if (!Array.isArray(named)) throw new TypeError(`${fn}: named must be an array of [name, weight] pairs, received ${describe(named)}`);
  if (named.length === 0) throw new RangeError(`${fn}: named is empty (no weights to plot)`);
  named.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError(`${fn}: named[${i}] must be a [name, weight] pair, received ${describe(pair)}`);
    const w: unknown = pair[1];
    if (!(w instanceof Tensor)) throw new TypeError(`${fn}: named[${i}][1] must be a Tensor, received ${describe(w)}`);
    if (w.disposed) throw new TypeError(`${fn}: named[${i}][1] ('${String(pair[0])}') was disposed`);
    if (w.dtype !== "f32") throw new TypeError(`${fn}: named[${i}][1] ('${String(pair[0])}') must have dtype 'f32', received '${w.dtype}'`);
    if (w.ndim !== 2) throw new RangeError(`${fn}: named[${i}][1] ('${String(pair[0])}') must be a 2-d weight, received shape [${w.shape.join(", ")}]`);
  });
  checkLayerNames(fn, named.map((p) => p[0]), (i) => `named[${i}][0]`);
  const layers = named.map(([name, w], i) => {
    const q = quantizeWeightsTernary(w as Tensor<"f32">);
    try {
      return { name, f: codesOf(fn, `named[${i}] codes`, q.codes) };
    } finally {
      q.dispose();
    }
  });
  return ternaryChart(fn, layers, opts);
}
