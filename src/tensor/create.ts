// Tensor creation and joining.
import * as native from "../backend/kernels";
import type { NativeTypedArray } from "../backend/kernels";
import { Device, resolveDevice } from "../backend/runtime";
import { AnyDataArray, DType, checkDType, describe, dtypeInfo, dtypeOfArray, storageBytes, withArticle } from "./dtype";
import { numberToBf16Bits, numberToF16Bits } from "./half";
import { Generator, checkNormalParams, checkUniformBounds, defaultGenerator } from "./random";
import { checkDim, checkShape, contiguousStrides, formatShape, numelOf } from "./shape";
import { checkStorageBytes, isDetachedBuffer, maxStorageBytes } from "./storage";
import { Tensor, fillOutput, usingTemp } from "./tensor";

/** Options shared by the creation functions. */
export interface CreateOptions<D extends DType = DType> {
  /** Element type (default "f32", or the typed array's own type in fromArray). */
  dtype?: D;
  /** Device to create on (default "cpu"; "metal" throws where not built). */
  device?: Device;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreateOptions<"f32" | "f16" | "bf16"> {
  /** Seed of a fresh generator for this call; otherwise `generator` or the default generator. */
  seed?: number | bigint;
  /** Generator whose stream this call consumes (ignored when seed is given). */
  generator?: Generator;
}

function prepare<D extends DType>(fn: string, shape: unknown, opts: CreateOptions<D> | undefined, fallback: DType): [number[], D] {
  if (opts !== undefined && (typeof opts !== "object" || opts === null)) {
    throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  }
  if (opts?.device !== undefined) {
    if (typeof opts.device !== "string") throw new TypeError(`${fn}: device must be a string, received ${describe(opts.device)}`);
    resolveDevice(opts.device);
  }
  const dtype = (opts?.dtype === undefined ? fallback : checkDType(opts.dtype, `${fn}: dtype`)) as D;
  return [checkShape(shape, fn), dtype];
}

/** An uninitialised tensor (contents are whatever the memory held). */
export function empty<D extends DType = "f32">(shape: readonly number[], opts?: CreateOptions<D>): Tensor<D> {
  const [s, dtype] = prepare("empty", shape, opts, "f32");
  return Tensor.empty(s, dtype, false, "empty");
}

/** A tensor of zeros. */
export function zeros<D extends DType = "f32">(shape: readonly number[], opts?: CreateOptions<D>): Tensor<D> {
  const [s, dtype] = prepare("zeros", shape, opts, "f32");
  if (dtype === "ternary2") return fullOf("zeros", s, dtype, 0);
  return Tensor.empty(s, dtype, true, "zeros");
}

/** A tensor of ones. */
export function ones<D extends DType = "f32">(shape: readonly number[], opts?: CreateOptions<D>): Tensor<D> {
  const [s, dtype] = prepare("ones", shape, opts, "f32");
  return fullOf("ones", s, dtype, 1);
}

/** A tensor filled with `value` (rounded to the dtype; integers must be in range). */
export function full<D extends DType = "f32">(shape: readonly number[], value: number, opts?: CreateOptions<D>): Tensor<D> {
  const [s, dtype] = prepare("full", shape, opts, "f32");
  if (typeof value !== "number") throw new TypeError(`full: value must be a number, received ${describe(value)}`);
  return fullOf("full", s, dtype, value);
}

function fullOf<D extends DType>(fn: string, shape: number[], dtype: D, value: number): Tensor<D> {
  // The value is checked before anything is allocated.
  if (dtype === "ternary2" && value !== -1 && value !== 0 && value !== 1) {
    throw new RangeError(`${fn}: value must be -1, 0 or 1 for dtype 'ternary2', received ${value}`);
  }
  if (!isFloatDType(dtype) && dtype !== "ternary2" && checkedInteger(dtype, value) !== undefined) {
    throw new RangeError(`${fn}: value must be an integer representable as '${dtype}', received ${value}`);
  }
  return fillOutput(Tensor.empty(shape, dtype, false, fn), (t) => {
    const data = t.data() as AnyDataArray;
    if (dtype === "f16") data.fill(numberToF16Bits(value));
    else if (dtype === "bf16") data.fill(numberToBf16Bits(value));
    else if (dtype === "ternary2") {
      const code = value + 1;
      data.fill(code | (code << 2) | (code << 4) | (code << 6));
    } else data.fill(value);
  });
}

function isFloatDType(dtype: DType): boolean {
  return dtype === "f32" || dtype === "f16" || dtype === "bf16";
}

function checkedInteger(dtype: DType, value: number): string | undefined {
  const ranges: Record<string, [number, number]> = { i8: [-128, 127], u8: [0, 255], i32: [-2147483648, 2147483647] };
  const [lo, hi] = ranges[dtype];
  return Number.isInteger(value) && value >= lo && value <= hi ? undefined : "out of range";
}

/** Nested arrays of numbers. */
export type NestedNumbers = number | readonly NestedNumbers[];

function inferNestedShape(data: NestedNumbers, fn: string): number[] {
  const shape: number[] = [];
  let cur: NestedNumbers = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as NestedNumbers;
    if (cur === undefined) break;
  }
  return checkShape(shape, fn, "data (its nesting)");
}

function flatten(data: NestedNumbers, shape: number[], fn: string): number[] {
  const out: number[] = [];
  const walk = (node: NestedNumbers, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (typeof node !== "number") throw new TypeError(`${fn}: data${path} must be a number, received ${describe(node)}`);
      out.push(node);
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[dim]) {
      throw new RangeError(`${fn}: data${path} must be an array of length ${shape[dim]} (ragged nesting), received ${describe(node)}`);
    }
    node.forEach((child, i) => walk(child as NestedNumbers, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, "");
  return out;
}

/**
 * Copies numbers (nested arrays or a typed array) into a new tensor. `shape` defaults to the
 * nesting (or 1-D for a typed array); `dtype` defaults to the typed array's type, else f32.
 */
export function fromArray<D extends DType = "f32">(
  data: NestedNumbers | ArrayLike<number>,
  opts?: CreateOptions<D> & { shape?: readonly number[] },
): Tensor<D> {
  const fn = "fromArray";
  const isTyped = ArrayBuffer.isView(data);
  if (!isTyped && typeof data !== "number" && !Array.isArray(data)) {
    throw new TypeError(`${fn}: data must be a number, a nested array of numbers or a typed array, received ${describe(data)}`);
  }
  if (isTyped && isDetachedBuffer((data as unknown as ArrayBufferView).buffer)) {
    throw new TypeError(`${fn}: data is a view of a detached ArrayBuffer (its memory was transferred away), received ${describe(data)}`);
  }
  const fallback = isTyped ? dtypeOfArray(data as unknown as ArrayBufferView) ?? "f32" : "f32";
  const [, dtype] = prepare(fn, [], opts, fallback);
  let flat: ArrayLike<number>;
  let shape: number[];
  if (isTyped) {
    flat = data as ArrayLike<number>;
    shape = [flat.length];
  } else {
    shape = inferNestedShape(data as NestedNumbers, fn);
    flat = flatten(data as NestedNumbers, shape, fn);
  }
  if (opts?.shape !== undefined) {
    const s = checkShape(opts.shape, fn);
    if (numelOf(s) !== flat.length) {
      throw new RangeError(`${fn}: shape ${formatShape(s)} needs ${numelOf(s)} elements, data has ${flat.length}`);
    }
    shape = s;
  }
  const f = fillOutput(Tensor.empty(shape, "f32", false, fn), (t) => {
    const view = t.data();
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i];
      if (typeof v !== "number") throw new TypeError(`${fn}: data[${i}] must be a number, received ${describe(v)}`);
      view[i] = v;
    }
  });
  if (dtype === "f32") return f as Tensor<D>;
  // Integer dtypes take the exact source values, not their float32 roundings.
  if (dtype === "i32" || dtype === "i8" || dtype === "u8") {
    f.dispose();
    return fillOutput(Tensor.empty(shape, dtype, false, fn), (t) => {
      const out = t.data() as AnyDataArray;
      for (let i = 0; i < flat.length; i++) {
        if (checkedInteger(dtype, flat[i]) !== undefined) {
          throw new RangeError(`${fn}: data element ${i} is ${flat[i]}, not an integer representable as '${dtype}'`);
        }
        out[i] = flat[i];
      }
    });
  }
  return usingTemp(f, (t) => t.to(dtype));
}

/**
 * Wraps a typed array without copying: writes through either side are seen by the other. The
 * caller keeps ownership of the memory.
 */
export function wrap<D extends DType = DType>(array: ArrayBufferView, opts?: { shape?: readonly number[]; dtype?: D }): Tensor<D> {
  if (!ArrayBuffer.isView(array)) throw new TypeError(`wrap: array must be a typed array, received ${describe(array)}`);
  if (isDetachedBuffer(array.buffer)) {
    throw new TypeError(`wrap: array is a view of a detached ArrayBuffer (its memory was transferred away), received ${describe(array)}`);
  }
  const natural = dtypeOfArray(array);
  const dtype = (opts?.dtype === undefined ? natural : checkDType(opts.dtype, "wrap: dtype")) as D | undefined;
  if (dtype === undefined) throw new TypeError(`wrap: pass a dtype for ${describe(array)}`);
  const expectedCtor = { f32: Float32Array, f16: Uint16Array, bf16: Uint16Array, i8: Int8Array, i32: Int32Array, u8: Uint8Array, ternary2: Uint8Array }[dtype];
  if (!(array instanceof expectedCtor)) {
    throw new TypeError(`wrap: dtype '${dtype}' needs ${withArticle(expectedCtor.name)}, received ${describe(array)}`);
  }
  const length = (array as unknown as AnyDataArray).length;
  const shape = opts?.shape === undefined ? [dtype === "ternary2" ? length * 4 : length] : checkShape(opts.shape, "wrap");
  const needed = dtype === "ternary2" ? Math.ceil(numelOf(shape) / 4) : numelOf(shape);
  if (needed !== length) {
    throw new RangeError(`wrap: shape ${formatShape(shape)} needs ${needed} array elements, received ${length}`);
  }
  return Tensor.wrap(array, shape, dtype);
}

/**
 * Evenly spaced values in [start, end). With one argument, [0, start). The dtype defaults to
 * i32 when start, end and step are integers, else f32. The size is checked before anything is
 * allocated, and the values are written straight into the tensor.
 */
export function arange<D extends DType = DType>(start: number, end?: number, step = 1, opts?: CreateOptions<D>): Tensor<D> {
  const fn = "arange";
  for (const [name, v] of [["start", start], ["end", end ?? 0], ["step", step]] as const) {
    if (typeof v !== "number") throw new TypeError(`${fn}: ${name} must be a number, received ${describe(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: ${name} must be finite, received ${v}`);
  }
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError(`${fn}: step must be non-zero, received 0`);
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const [, dtype] = prepare(fn, [], opts, integral ? "i32" : "f32");
  const n = Math.max(0, Math.ceil((end - start) / step));
  const range = `start=${start}, end=${end}, step=${step}`;
  if (!Number.isSafeInteger(n)) throw new RangeError(`${fn}: ${range} gives ${n} elements, more than 2^53`);
  const bytes = storageBytes(dtype, n);
  const limit = maxStorageBytes();
  if (bytes > limit) {
    throw new RangeError(`${fn}: ${range} gives ${n} elements, which need ${bytes} bytes (${dtype}), more than the ${limit}-byte limit of one buffer`);
  }
  const at = (i: number): number => start + i * step;
  // Integer dtypes: the sequence is monotonic, so the ends bound every value; a non-integer
  // value can only appear when start, end or step is not an integer. Either way the first bad
  // element is found before anything is allocated.
  if (!isFloatDType(dtype) && n > 0) {
    const { min, max } = dtype === "ternary2" ? { min: -1, max: 1 } : dtypeInfo(dtype);
    const inRange = (v: number): boolean => v >= min && v <= max;
    if (!integral || !inRange(at(0)) || !inRange(at(n - 1))) {
      for (let i = 0; i < n; i++) {
        const v = at(i);
        if (Number.isInteger(v) && inRange(v)) continue;
        if (dtype === "ternary2") throw new RangeError(`${fn}: element ${i} is ${v}, expected -1, 0 or 1 for dtype 'ternary2'`);
        throw new RangeError(`${fn}: element ${i} is ${v}, not an integer representable as '${dtype}'`);
      }
    }
  }
  return fillOutput(Tensor.empty([n], dtype, dtype === "ternary2", fn), (t) => {
    const out = t.data() as AnyDataArray;
    if (dtype === "f16") for (let i = 0; i < n; i++) out[i] = numberToF16Bits(at(i));
    else if (dtype === "bf16") for (let i = 0; i < n; i++) out[i] = numberToBf16Bits(at(i));
    else if (dtype === "ternary2") for (let i = 0; i < n; i++) out[i >> 2] |= (at(i) + 1) << ((i & 3) * 2);
    else for (let i = 0; i < n; i++) out[i] = at(i);
  });
}

/**
 * Runs `body`; an error from the Generator (which names only its argument, e.g. "seed must
 * be ...") is rethrown as the same class with the public function's name in front.
 */
function named<T>(fn: string, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (!(e instanceof Error) || e.message.startsWith(`${fn}: `)) throw e;
    const Ctor = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
    throw new Ctor(`${fn}: ${e.message}`, { cause: e });
  }
}

function randomTensor<D extends DType>(
  fn: string,
  shape: readonly number[],
  opts: RandomOptions | undefined,
  check: () => void,
  fill: (g: Generator, out: Float32Array) => void,
): Tensor<D> {
  const [s, dtype] = prepare(fn, shape, opts, "f32");
  if (dtype !== "f32" && dtype !== "f16" && dtype !== "bf16") {
    throw new TypeError(`${fn}: dtype must be 'f32', 'f16' or 'bf16', received '${dtype}'`);
  }
  if (opts?.generator !== undefined && !(opts.generator instanceof Generator)) {
    throw new TypeError(`${fn}: generator must be a Generator, received ${describe(opts.generator)}`);
  }
  // Everything is validated before anything is allocated or any stream is consumed.
  const g = named(fn, () => (opts?.seed !== undefined ? new Generator(opts.seed) : opts?.generator ?? defaultGenerator));
  named(fn, check);
  checkStorageBytes(fn, s, dtype); // the requested dtype first; the f32 working copy is checked as it is allocated
  const t = fillOutput(Tensor.empty(s, "f32", false, fn), (out) => named(fn, () => fill(g, out.data())));
  if (dtype === "f32") return t as Tensor<D>;
  return usingTemp(t, (f) => f.to(dtype) as Tensor<D>);
}

/** Uniform samples in [low, high) from a Philox4x32-10 stream (identical on every platform). */
export function rand<D extends "f32" | "f16" | "bf16" = "f32">(shape: readonly number[], opts?: RandomOptions & { low?: number; high?: number; dtype?: D }): Tensor<D> {
  const low = opts?.low ?? 0;
  const high = opts?.high ?? 1;
  return randomTensor("rand", shape, opts, () => checkUniformBounds(low, high), (g, out) => g.uniform(out, low, high));
}

/** Normal samples (Box–Muller over a Philox4x32-10 stream; identical on every platform). */
export function randn<D extends "f32" | "f16" | "bf16" = "f32">(shape: readonly number[], opts?: RandomOptions & { mean?: number; std?: number; dtype?: D }): Tensor<D> {
  const mean = opts?.mean ?? 0;
  const std = opts?.std ?? 1;
  return randomTensor("randn", shape, opts, () => checkNormalParams(mean, std), (g, out) => g.normal(out, mean, std));
}

/** Joins tensors of one dtype along `dim`; all other dimensions must match. */
export function concat<D extends DType>(tensors: readonly Tensor<D>[], dim = 0): Tensor<D> {
  const fn = "concat";
  if (!Array.isArray(tensors as unknown) || tensors.length === 0) {
    throw new TypeError(`${fn}: tensors must be a non-empty array of tensors, received ${describe(tensors)}`);
  }
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${fn}: tensors[${i}] must be a Tensor, received ${describe(t)}`);
    if (t.disposed) throw new Error(`${fn}: tensors[${i}] was disposed`);
    if (t.detached) throw new Error(`${fn}: tensors[${i}] has detached memory (the caller's ArrayBuffer it wraps was transferred away)`);
  });
  const first = tensors[0];
  if (first.dtype === "ternary2") throw new TypeError(`${fn}: not supported for packed 'ternary2' tensors; convert with to('i8') first`);
  if (first.ndim === 0) throw new RangeError(`${fn}: cannot concatenate 0-d tensors; reshape them to [1] first`);
  const d = checkDim(dim, first.ndim, fn);
  let total = 0;
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new TypeError(`${fn}: tensors[${i}] has dtype '${t.dtype}', expected '${first.dtype}' like tensors[0]`);
    const same = t.ndim === first.ndim && t.shape.every((s, k) => k === d || s === first.shape[k]);
    if (!same) {
      throw new RangeError(`${fn}: tensors[${i}] has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape.map((s, k) => (k === d ? t.shape[k] ?? "*" : s)) as number[])} (all dimensions but ${d} equal)`);
    }
    total += t.shape[d];
  });
  const shape = first.shape.slice();
  shape[d] = total;
  const outStrides = contiguousStrides(shape);
  return fillOutput(Tensor.empty(shape, first.dtype, false, fn), (out) => {
    const dst = out.storageArray() as NativeTypedArray;
    let at = 0;
    for (const t of tensors) {
      native.stridedCopy(t.storageArray() as NativeTypedArray, t.offset, t.strides as number[], dst, at * outStrides[d], outStrides, t.shape as number[]);
      at += t.shape[d];
    }
  });
}
