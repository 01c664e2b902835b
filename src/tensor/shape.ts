// Shape and index validation shared by tensor creation and views.
import { describe } from "./dtype";

/** Most dimensions a tensor may have (the native copy kernel's limit). */
export const MAX_DIMS = 16;

/** Validates a shape; errors name `fn` and `arg`. */
export function checkShape(shape: unknown, fn: string, arg = "shape"): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${fn}: ${arg} must be an array of integers, received ${describe(shape)}`);
  if (shape.length > MAX_DIMS) {
    throw new RangeError(`${fn}: ${arg} must have at most ${MAX_DIMS} dimensions, received ${shape.length}`);
  }
  let numel = 1;
  shape.forEach((d, i) => {
    if (typeof d !== "number") throw new TypeError(`${fn}: ${arg}[${i}] must be a number, received ${describe(d)}`);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${fn}: ${arg}[${i}] must be a non-negative integer, received ${d}`);
    }
    numel *= d;
  });
  if (numel > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`${fn}: ${arg} [${shape.join(", ")}] has ${numel} elements, more than 2^53`);
  }
  return shape.slice() as number[];
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Normalises a possibly negative dimension index. */
export function checkDim(dim: unknown, ndim: number, fn: string, arg = "dim"): number {
  if (typeof dim !== "number") throw new TypeError(`${fn}: ${arg} must be an integer, received ${describe(dim)}`);
  if (!Number.isInteger(dim) || dim < -ndim || dim >= ndim) {
    throw new RangeError(`${fn}: ${arg} must be an integer in [${-ndim}, ${ndim - 1}] for a ${ndim}-d tensor, received ${dim}`);
  }
  return dim < 0 ? dim + ndim : dim;
}

/** Formats a shape as "[2, 3]". */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}
