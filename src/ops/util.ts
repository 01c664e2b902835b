// Shared argument checks and helpers for the differentiable ops.
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";

/** Throws unless `t` is a live tensor of `dtype` (and `ndim` dimensions, when given). */
export function checkInput(fn: string, arg: string, t: unknown, dtype: "f32" | "i32" = "f32", ndim?: number): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new TypeError(`${fn}: ${arg} must be a Tensor, received ${describe(t)}`);
  if (t.disposed) throw new Error(`${fn}: ${arg} was disposed`);
  if (t.dtype !== dtype) throw new TypeError(`${fn}: ${arg} must have dtype '${dtype}', received '${t.dtype}'`);
  if (ndim !== undefined && t.ndim !== ndim) {
    throw new RangeError(`${fn}: ${arg} must be ${ndim}-d, received shape ${formatShape(t.shape)}`);
  }
}

/** Throws unless `v` is a finite number. */
export function checkNumber(fn: string, arg: string, v: unknown): asserts v is number {
  if (typeof v !== "number") throw new TypeError(`${fn}: ${arg} must be a number, received ${describe(v)}`);
  if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${arg} must be finite, received ${v}`);
}

/** The element array of `t`, copying to a contiguous temporary only when `t` is a strided view. */
export function readF32(t: Tensor<"f32">): { data: Float32Array; release(): void } {
  if (t.isContiguous()) return { data: t.data(), release() {} };
  const c = t.contiguous();
  return {
    data: c.data(),
    release() {
      c.dispose();
    },
  };
}

/** The shape two shapes broadcast to (NumPy rules), or a RangeError naming `fn`. */
export function broadcastShapes(fn: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(`${fn}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Same dimensions? */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
