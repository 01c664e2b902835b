// Gradient checks against float64: every op's forward is compared with a float64 reference
// written with plain loops, and its backward with central finite differences of that reference
// (in float64, so the differences are accurate to ~1e-9 and the tolerance only has to absorb
// our float32 arithmetic).
import assert from "node:assert/strict";
import { Tensor, Generator, wrap } from "../../src";

export interface GradInput {
  shape: number[];
  /** Values (default: N(0, 1) from the check's seed). */
  values?: number[] | Float32Array;
  /** Whether to check this input's gradient (default true). */
  grad?: boolean;
}

export interface GradCheck {
  name: string;
  inputs: GradInput[];
  /** Our op on f32 tensors (they require grad where `grad` is not false). */
  ours: (...inputs: Tensor<"f32">[]) => Tensor<"f32">;
  /** float64 reference of the same function on flat row-major arrays. */
  reference: (...inputs: Float64Array[]) => Float64Array;
  seed?: number;
  /** Relative tolerance of the forward (default 1e-5) and of the gradients (default 1e-3). */
  forwardTolerance?: number;
  gradTolerance?: number;
  /** Finite-difference step (default 1e-6, scaled by max(1, |x|)). */
  step?: number;
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Largest |a - b| relative to the largest |b| (and 1e-12), with the index where it happens. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): { error: number; at: number } {
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let error = 0;
  let at = -1;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs(a[i] - b[i]) / scale;
    if (!(e <= error)) {
      error = e;
      at = i;
    }
  }
  return { error, at };
}

/**
 * Checks forward and gradients of `spec.ours` against `spec.reference`. The loss is
 * sum(out * w) with a fixed random w, so every output element matters with its own weight.
 */
export function gradCheck(spec: GradCheck): void {
  const gen = new Generator(spec.seed ?? 1);
  const values: Float32Array[] = spec.inputs.map((inp) => {
    const n = numel(inp.shape);
    if (inp.values !== undefined) {
      assert.equal(inp.values.length, n, `${spec.name}: values of an input do not match its shape`);
      return Float32Array.from(inp.values);
    }
    const v = new Float32Array(n);
    gen.normal(v);
    return v;
  });
  const tensors = values.map((v, i) => {
    const t = wrap(new Float32Array(v), { shape: spec.inputs[i].shape, dtype: "f32" });
    if (spec.inputs[i].grad !== false) t.requiresGrad_();
    return t;
  });
  const out = spec.ours(...tensors);
  assert.ok(out instanceof Tensor, `${spec.name}: ours must return a Tensor`);
  const ref64 = spec.reference(...values.map((v) => Float64Array.from(v)));
  assert.equal(out.numel, ref64.length, `${spec.name}: output has ${out.numel} elements, the reference ${ref64.length}`);
  const fwd = relativeError(out.toFloat32Array(), ref64);
  assert.ok(fwd.error <= (spec.forwardTolerance ?? 1e-5), `${spec.name}: forward differs from float64 by ${fwd.error.toExponential(2)} (relative) at element ${fwd.at}`);

  const weights = new Float32Array(out.numel);
  gen.normal(weights);
  const w64 = Float64Array.from(weights);
  const loss = (xs: Float64Array[]): number => {
    const y = spec.reference(...xs);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * w64[i];
    return s;
  };
  out.backward(wrap(weights, { shape: out.shape as number[], dtype: "f32" }));

  const h0 = spec.step ?? 1e-6;
  spec.inputs.forEach((inp, which) => {
    if (inp.grad === false) return;
    const xs = values.map((v) => Float64Array.from(v));
    const x = xs[which];
    const fd = new Float64Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const orig = x[j];
      const h = h0 * Math.max(1, Math.abs(orig));
      x[j] = orig + h;
      const up = loss(xs);
      x[j] = orig - h;
      const down = loss(xs);
      x[j] = orig;
      fd[j] = (up - down) / (2 * h);
    }
    const g = tensors[which].grad;
    assert.ok(g !== null, `${spec.name}: input ${which} got no gradient`);
    assert.deepEqual([...g.shape], inp.shape, `${spec.name}: gradient of input ${which} has the wrong shape`);
    const r = relativeError(g.toFloat32Array(), fd);
    assert.ok(
      r.error <= (spec.gradTolerance ?? 1e-3),
      `${spec.name}: gradient of input ${which} differs from float64 finite differences by ${r.error.toExponential(2)} (relative) at element ${r.at}: ours ${g.toFloat32Array()[r.at]}, reference ${fd[r.at]}`,
    );
  });
  for (const t of tensors) {
    t.grad?.dispose();
    t.dispose();
  }
  out.dispose();
}
