// The Tensor: a dtype, a shape, strides and an offset over one Storage. Views (reshape,
// transpose, permute, slice) share storage and keep it alive; every method returns a new Tensor
// the caller owns and may dispose() independently.
import * as native from "../backend/kernels";
import type { NativeTypedArray } from "../backend/kernels";
import { AnyDataArray, DataArray, DType, checkDType, dtypeInfo, storageBytes, storageLength, describe } from "./dtype";
import { bf16BitsToNumber, f16BitsToNumber } from "./half";
import { checkDim, checkShape, contiguousStrides, formatShape, numelOf } from "./shape";
import { Storage, checkStorageBytes, countTensor, isDetachedBuffer } from "./storage";
import { formatTensor } from "./format";
import { trackTensor } from "./scope";

// A tensor the user forgot to dispose still returns its count and bytes when collected.
const registry = new FinalizationRegistry<Storage>((storage) => {
  countTensor(-1);
  storage.release(true);
});

/** Nested arrays of numbers, as produced by `toArray()`. */
export type NestedArray = number | NestedArray[];

/**
 * A node of the autograd tape (src/autograd): the op that produced a tensor, its inputs, and
 * how to turn the gradient of the output into gradients of the inputs.
 */
export interface GradNode {
  /** Op name, for error messages and printing. */
  readonly op: string;
  /** The op's tensor inputs, in the order `backward` returns their gradients. */
  readonly inputs: readonly Tensor[];
  /** Gradients of the inputs (null where an input needs none) from the output's gradient. */
  backward(gradOutput: Tensor<"f32">): (Tensor<"f32"> | null)[];
}

/** What src/autograd installs so Tensor methods can take part in the tape without importing it. */
export interface AutogradHooks {
  /** Records a one-input op (a view or copy) whose input requires grad. */
  recordUnary(op: string, input: Tensor, output: Tensor, backward: (g: Tensor<"f32">) => Tensor<"f32">): void;
  /** Runs reverse-mode differentiation from `root`. */
  backward(root: Tensor, gradient?: Tensor<"f32">, opts?: { retainGraph?: boolean }): void;
}

let autograd: AutogradHooks | null = null;

/** Internal: called once by src/autograd. */
export function installAutogradHooks(hooks: AutogradHooks): void {
  autograd = hooks;
}

export class Tensor<D extends DType = DType> {
  /** Element type. */
  readonly dtype: D;
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Elements to step in storage for each dimension. */
  readonly strides: readonly number[];
  /** Element offset of the first element in storage. */
  readonly offset: number;
  /** Where the data lives. */
  readonly device: "cpu" = "cpu";
  /**
   * Whether gradients flow to this tensor: set on parameters with `requiresGrad_()`, and on the
   * result of any op with such an input while gradients are enabled.
   */
  requiresGrad = false;
  /** Gradient accumulated by `backward()` (leaf tensors that require grad). */
  grad: Tensor<"f32"> | null = null;
  /** The tape node that produced this tensor (null for leaves and outside autograd). */
  gradNode: GradNode | null = null;
  #storage: Storage;
  #disposed = false;
  // The typed-array view data() returns, made once: kernels call data() on every argument of
  // every call, and a decode step makes hundreds of calls.
  #data: DataArray<D> | undefined;

  /**
   * Internal: use the creation functions (zeros, fromArray, ...). Takes a new reference to
   * `storage`.
   */
  constructor(storage: Storage, dtype: D, shape: readonly number[], strides?: readonly number[], offset = 0) {
    storage.retain();
    this.#storage = storage;
    this.dtype = dtype;
    this.shape = Object.freeze(shape.slice());
    this.strides = Object.freeze((strides ?? contiguousStrides(shape)).slice());
    this.offset = offset;
    countTensor(1);
    registry.register(this, storage, this);
    trackTensor(this);
  }

  /**
   * Allocates an uninitialised (or zeroed) contiguous tensor. A size past the one-buffer limit
   * is a RangeError naming `fn` (the public function allocating) and the shape.
   */
  static empty<T extends DType>(shape: readonly number[], dtype: T, zero = false, fn = "Tensor.empty"): Tensor<T> {
    const storage = Storage.allocate(checkStorageBytes(fn, shape, dtype), zero);
    return new Tensor(storage, dtype, shape);
  }

  /** Wraps caller-owned memory without copying (used by Arrow exchange). */
  static wrap<T extends DType>(array: ArrayBufferView, shape: readonly number[], dtype: T): Tensor<T> {
    if (isDetachedBuffer(array.buffer)) {
      throw new TypeError(`Tensor.wrap: array is a view of a detached ArrayBuffer (its memory was transferred away), received ${describe(array)}`);
    }
    const storage = Storage.wrap(array);
    return new Tensor(storage, dtype, shape);
  }

  /** Number of elements. */
  get numel(): number {
    return numelOf(this.shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Whether dispose() was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Whether the caller memory this tensor wraps (wrap(), Arrow) is gone: its ArrayBuffer was
   * detached, e.g. transferred to a worker. Every op on such a tensor throws; dispose() works.
   */
  get detached(): boolean {
    return !this.#disposed && this.#storage.detached;
  }

  /** Bytes the elements occupy when contiguous. */
  get nbytes(): number {
    return storageBytes(this.dtype, this.numel);
  }

  /** Whether the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] === 1) continue;
      if (this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /**
   * Frees this tensor's reference to its storage; memory is returned when the last tensor
   * sharing it is disposed. Idempotent.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#data = undefined;
    registry.unregister(this);
    countTensor(-1);
    this.#storage.release(false);
  }

  /**
   * Marks a leaf f32 tensor as a parameter whose gradient `backward()` accumulates in `grad`.
   * Returns this tensor.
   */
  requiresGrad_(flag = true): this {
    this.live("requiresGrad_");
    if (flag && this.dtype !== "f32") throw new TypeError(`Tensor.requiresGrad_: only f32 tensors can require grad, this one is ${this.dtype}`);
    if (this.gradNode !== null) {
      throw new TypeError(`Tensor.requiresGrad_: only leaf tensors can be marked; this one is the result of '${this.gradNode.op}' (use detach() first)`);
    }
    this.requiresGrad = flag;
    return this;
  }

  /** A view of the same memory that is cut from the autograd tape (no gradient flows back). */
  detach(): Tensor<D> {
    this.live("detach");
    return new Tensor(this.#storage, this.dtype, this.shape, this.strides, this.offset);
  }

  /**
   * Back-propagates from this tensor: every leaf that requires grad gets d(this)/d(leaf) added to
   * its `grad`. A scalar (one element) needs no `gradient`; otherwise pass d(loss)/d(this).
   * The tape is released afterwards unless `retainGraph` is set.
   */
  backward(gradient?: Tensor<"f32">, opts?: { retainGraph?: boolean }): void {
    this.live("backward");
    if (autograd === null) throw new Error("Tensor.backward: autograd is not loaded (import it from 'bitnet-lab')");
    autograd.backward(this, gradient, opts);
  }

  /** Records a view/copy of this tensor on the tape when it requires grad. */
  private track<T extends Tensor>(op: string, out: T, backward: (g: Tensor<"f32">) => Tensor<"f32">): T {
    if (this.requiresGrad && autograd !== null) autograd.recordUnary(op, this, out, backward);
    return out;
  }

  /**
   * Throws if disposed or if the wrapped memory is gone; returns the storage. Every op calls
   * this before it reads the storage or allocates an output.
   */
  private live(op: string): Storage {
    if (this.#disposed) throw new Error(`Tensor.${op}: the tensor was disposed`);
    if (this.#storage.detached) {
      throw new Error(`Tensor.${op}: the tensor's memory was detached (the caller's ArrayBuffer it wraps was transferred away); dispose the tensor`);
    }
    return this.#storage;
  }

  /** The whole storage as a typed array of this dtype (internal). */
  storageArray(): AnyDataArray {
    const s = this.live("storageArray");
    const info = dtypeInfo(this.dtype);
    return new info.array(s.buffer, s.byteOffset, s.byteLength / info.array.BYTES_PER_ELEMENT);
  }

  /** The storage shared by this tensor and its views (internal). */
  get storage(): Storage {
    return this.live("storage");
  }

  /**
   * A zero-copy typed-array view of the elements (contiguous tensors only; f16/bf16 as raw
   * 16-bit patterns, ternary2 as packed bytes). Writing to it writes the tensor. Every call
   * returns the same view object.
   */
  data(): DataArray<D> {
    const s = this.live("data");
    if (this.#data !== undefined) return this.#data;
    if (!this.isContiguous()) {
      throw new TypeError(`Tensor.data: the tensor is not contiguous (strides ${formatShape(this.strides)}); call contiguous() first`);
    }
    const info = dtypeInfo(this.dtype);
    const itemBytes = info.array.BYTES_PER_ELEMENT;
    const byteOffset = s.byteOffset + (this.dtype === "ternary2" ? this.offset / 4 : this.offset * itemBytes);
    this.#data = new info.array(s.buffer, byteOffset, storageLength(this.dtype, this.numel)) as DataArray<D>;
    return this.#data;
  }

  /** A new view with the same storage (internal helper for views). */
  private makeView(shape: readonly number[], strides: readonly number[], offset: number): Tensor<D> {
    return new Tensor(this.live("view"), this.dtype, shape, strides, offset);
  }

  private noPacked(op: string): void {
    if (this.dtype === "ternary2") {
      throw new TypeError(`Tensor.${op}: not supported for packed 'ternary2' tensors; convert with to('i8') first`);
    }
  }

  /**
   * Same elements with a new shape (one entry may be -1). A view when the layout allows, else
   * a contiguous copy.
   */
  reshape(shape: readonly number[]): Tensor<D> {
    this.live("reshape");
    const target = this.inferShape(shape, "reshape");
    const out = this.isContiguous()
      ? this.makeView(target, contiguousStrides(target), this.offset)
      : usingTemp(this.contiguous(), (c) => c.makeView(target, contiguousStrides(target), 0));
    return this.track("reshape", out, (g) => g.reshape(this.shape));
  }

  /** Like reshape, but always a view: throws if the tensor is not contiguous. */
  view(shape: readonly number[]): Tensor<D> {
    this.live("view");
    const target = this.inferShape(shape, "view");
    if (!this.isContiguous()) throw new TypeError("Tensor.view: the tensor is not contiguous; use reshape() or contiguous()");
    return this.track("view", this.makeView(target, contiguousStrides(target), this.offset), (g) => g.reshape(this.shape));
  }

  private inferShape(shape: readonly number[], fn: string): number[] {
    if (!Array.isArray(shape)) throw new TypeError(`Tensor.${fn}: shape must be an array of integers, received ${describe(shape)}`);
    const minusOne = shape.indexOf(-1);
    if (minusOne !== shape.lastIndexOf(-1)) throw new RangeError(`Tensor.${fn}: at most one dimension may be -1, received ${formatShape(shape)}`);
    let target: number[];
    if (minusOne >= 0) {
      const rest = shape.filter((_, i) => i !== minusOne);
      const known = numelOf(checkShape(rest, `Tensor.${fn}`));
      if (known === 0 || this.numel % known !== 0) {
        throw new RangeError(`Tensor.${fn}: cannot infer -1 in ${formatShape(shape)} for ${this.numel} elements`);
      }
      target = shape.slice();
      target[minusOne] = this.numel / known;
    } else {
      target = checkShape(shape, `Tensor.${fn}`);
    }
    if (numelOf(target) !== this.numel) {
      throw new RangeError(`Tensor.${fn}: shape ${formatShape(target)} has ${numelOf(target)} elements, the tensor has ${this.numel} (shape ${formatShape(this.shape)})`);
    }
    return target;
  }

  /** Swaps two dimensions (a view). */
  transpose(dim0: number, dim1: number): Tensor<D> {
    this.live("transpose");
    this.noPacked("transpose");
    const a = checkDim(dim0, this.ndim, "Tensor.transpose", "dim0");
    const b = checkDim(dim1, this.ndim, "Tensor.transpose", "dim1");
    const order = this.shape.map((_, i) => i);
    order[a] = b;
    order[b] = a;
    return this.permute(order);
  }

  /** Reorders dimensions (a view): result dimension i is input dimension dims[i]. */
  permute(dims: readonly number[]): Tensor<D> {
    this.live("permute");
    this.noPacked("permute");
    if (!Array.isArray(dims)) throw new TypeError(`Tensor.permute: dims must be an array of integers, received ${describe(dims)}`);
    if (dims.length !== this.ndim) {
      throw new RangeError(`Tensor.permute: dims must list all ${this.ndim} dimensions, received ${describe(dims)}`);
    }
    const seen = new Set<number>();
    const norm = dims.map((d, i) => {
      const n = checkDim(d, this.ndim, "Tensor.permute", `dims[${i}]`);
      if (seen.has(n)) throw new RangeError(`Tensor.permute: dims must be a permutation, dimension ${n} appears twice`);
      seen.add(n);
      return n;
    });
    const inverse: number[] = [];
    norm.forEach((d, i) => (inverse[d] = i));
    return this.track("permute", this.makeView(norm.map((d) => this.shape[d]), norm.map((d) => this.strides[d]), this.offset), (g) =>
      g.permute(inverse),
    );
  }

  /**
   * Elements start, start+step, ... below end along `dim` (a view). Negative start/end count
   * from the end; both are clamped to the dimension like Python slices.
   */
  slice(dim: number, start: number, end?: number, step = 1): Tensor<D> {
    this.live("slice");
    this.noPacked("slice");
    const d = checkDim(dim, this.ndim, "Tensor.slice");
    const size = this.shape[d];
    const norm = (v: unknown, name: string, dflt: number): number => {
      if (v === undefined) return dflt;
      if (typeof v !== "number") throw new TypeError(`Tensor.slice: ${name} must be an integer, received ${describe(v)}`);
      if (!Number.isInteger(v)) throw new RangeError(`Tensor.slice: ${name} must be an integer, received ${describe(v)}`);
      const x = v < 0 ? v + size : v;
      return Math.min(Math.max(x, 0), size);
    };
    const s = norm(start, "start", 0);
    const e = norm(end, "end", size);
    if (typeof step !== "number") throw new TypeError(`Tensor.slice: step must be a positive integer, received ${describe(step)}`);
    if (!Number.isInteger(step) || step < 1) {
      throw new RangeError(`Tensor.slice: step must be a positive integer, received ${describe(step)}`);
    }
    const len = e > s ? Math.ceil((e - s) / step) : 0;
    const shape = this.shape.slice();
    const strides = this.strides.slice();
    shape[d] = len;
    strides[d] = this.strides[d] * step;
    const out = this.makeView(shape, strides, this.offset + (len > 0 ? s * this.strides[d] : 0));
    return this.track("slice", out, (g) => {
      // The gradient of a slice: zeros with g copied into the sliced positions.
      const full = Tensor.empty(this.shape, "f32", true, "Tensor.slice (backward)");
      const region = full.slice(d, s, e, step);
      try {
        native.stridedCopy(g.storageArray() as NativeTypedArray, g.offset, g.strides as number[], full.storageArray() as NativeTypedArray,
          region.offset, region.strides as number[], g.shape as number[]);
      } finally {
        region.dispose();
      }
      return full;
    });
  }

  /** A contiguous tensor with the same elements (a view when already contiguous). */
  contiguous(): Tensor<D> {
    this.live("contiguous");
    if (this.isContiguous()) return this.track("contiguous", this.makeView(this.shape, contiguousStrides(this.shape), this.offset), (g) => g);
    const out = fillOutput(Tensor.empty(this.shape, this.dtype, false, "Tensor.contiguous"), (out) =>
      native.stridedCopy(
        this.storageArray() as NativeTypedArray,
        this.offset,
        this.strides as number[],
        out.storageArray() as NativeTypedArray,
        0,
        contiguousStrides(this.shape),
        this.shape as number[],
      ),
    );
    return this.track("contiguous", out, (g) => g);
  }

  /** A contiguous copy that shares nothing with this tensor. */
  clone(): Tensor<D> {
    this.live("clone");
    if (!this.isContiguous()) return this.contiguous();
    const out = fillOutput(Tensor.empty(this.shape, this.dtype, false, "Tensor.clone"), (o) => {
      (o.data() as AnyDataArray).set(this.data() as never);
    });
    return this.track("clone", out, (g) => g);
  }

  /**
   * Converts to another dtype (a view when it is the same). Floats to f16/bf16 round to nearest
   * even; floats to integers truncate toward zero and throw on NaN or out-of-range values;
   * anything to ternary2 requires values in {-1, 0, +1}.
   */
  to<T extends DType>(dtype: T): Tensor<T> {
    this.live("to");
    checkDType(dtype, "Tensor.to: dtype");
    // Imported lazily: convert.ts builds on Tensor.
    return (require("./convert") as typeof import("./convert")).convertTensor(this, dtype);
  }

  /** Elements as float32 numbers, copied (any dtype). */
  toFloat32Array(): Float32Array {
    this.live("toFloat32Array");
    // to() always returns a contiguous tensor (a contiguous view for f32).
    return usingTemp(this.to("f32"), (f) => new Float32Array(f.data()));
  }

  /** Elements as nested JS arrays of numbers (copied). */
  toArray(): NestedArray {
    this.live("toArray");
    const flat = this.values();
    if (this.ndim === 0) return flat[0];
    const build = (dim: number, base: number): NestedArray[] => {
      const n = this.shape[dim];
      const inner = numelOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(dim === this.ndim - 1 ? flat[base + i] : build(dim + 1, base + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** The single element of a one-element tensor. */
  item(): number {
    this.live("item");
    if (this.numel !== 1) throw new RangeError(`Tensor.item: the tensor must have exactly 1 element, it has ${this.numel}`);
    return this.values()[0];
  }

  /** The element at the given indices (negative indices count from the end). */
  get(...indices: number[]): number {
    this.live("get");
    if (indices.length !== this.ndim) {
      throw new RangeError(`Tensor.get: expected ${this.ndim} indices, received ${indices.length}`);
    }
    let pos = this.offset;
    indices.forEach((ix, d) => {
      const size = this.shape[d];
      if (typeof ix !== "number") {
        throw new TypeError(`Tensor.get: index ${d} must be an integer in [${-size}, ${size - 1}], received ${describe(ix)}`);
      }
      if (!Number.isInteger(ix) || ix < -size || ix >= size) {
        throw new RangeError(`Tensor.get: index ${d} must be an integer in [${-size}, ${size - 1}], received ${describe(ix)}`);
      }
      pos += (ix < 0 ? ix + size : ix) * this.strides[d];
    });
    return readElement(this.storageArray(), this.dtype, pos);
  }

  /** Elements in row-major order as plain numbers (copied). */
  values(): number[] {
    this.live("values");
    return usingTemp(this.contiguous(), (c) => {
      const arr = c.storageArray();
      const out = new Array<number>(c.numel);
      for (let i = 0; i < out.length; i++) out[i] = readElement(arr, c.dtype, c.offset + i);
      return out;
    });
  }

  /** A PyTorch-like summary: values (elided when large), shape and dtype. */
  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/**
 * Runs `fill(out)` and returns `out`. If anything throws, `out` is disposed before the error
 * propagates: every op that allocates its output fills it through this, so a failing op never
 * leaks what it allocated (internal).
 */
export function fillOutput<T extends Tensor>(out: T, fill: (out: T) => void): T {
  try {
    fill(out);
    return out;
  } catch (e) {
    out.dispose();
    throw e;
  }
}

/** Runs `use(temp)` and disposes `temp` afterwards, whether or not it threw (internal). */
export function usingTemp<T extends Tensor, R>(temp: T, use: (temp: T) => R): R {
  try {
    return use(temp);
  } finally {
    temp.dispose();
  }
}

/** Reads element `index` of a storage array as a number. */
export function readElement(arr: AnyDataArray, dtype: DType, index: number): number {
  switch (dtype) {
    case "f16":
      return f16BitsToNumber(arr[index]);
    case "bf16":
      return bf16BitsToNumber(arr[index]);
    case "ternary2":
      return ((arr[index >> 2] >> ((index & 3) * 2)) & 3) - 1;
    default:
      return arr[index];
  }
}
