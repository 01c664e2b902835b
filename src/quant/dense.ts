// Dense weight matrices in a storage format chosen for decode speed: the token embedding and the
// LM head of a BitNet model are its only non-ternary large matrices, and at decode time the head
// is read whole for every token. f16/bf16 halve its bytes, int8 per row quarters them (exact
// int32 dots with int8 activations, scaled afterwards); what each costs in logit accuracy is
// measured by the tests and the inference benchmark.
import * as native from "../backend/kernels";
import { describe } from "../tensor/dtype";
import { Tensor } from "../tensor/tensor";
import { paddedCols, quantizeActivationsInt8 } from "./ternary";

/** Storage formats of {@link DenseWeights}. */
export type DenseFormat = "f32" | "f16" | "bf16" | "int8";

export const DENSE_FORMATS: readonly DenseFormat[] = ["f32", "f16", "bf16", "int8"];

/** Bytes a [rows, cols] matrix takes in `format` (int8: rows padded to 256 plus a scale each). */
export function denseWeightBytes(format: DenseFormat, rows: number, cols: number): number {
  return format === "f32" ? 4 * rows * cols : format === "int8" ? rows * (paddedCols(cols) + 4) : 2 * rows * cols;
}

export function checkDenseFormat(fn: string, arg: string, value: unknown): DenseFormat {
  if (!DENSE_FORMATS.includes(value as DenseFormat)) {
    throw new RangeError(`${fn}: ${arg} must be one of ${DENSE_FORMATS.map((f) => `'${f}'`).join(", ")}, received ${describe(value)}`);
  }
  return value as DenseFormat;
}

type DenseData = Tensor<"f32"> | Tensor<"f16"> | Tensor<"bf16"> | Tensor<"i8">;
const STORAGE_DTYPE = { f32: "f32", f16: "f16", bf16: "bf16", int8: "i8" } as const;
// Rows converted per chunk when building int8 from a wider tensor: bounds the f32 temporary.
const CHUNK_ELEMENTS = 1 << 22;

/**
 * A [rows, cols] weight matrix (one output row after another) in f32, f16, bf16 or int8 per row.
 * int8 rows are padded with zeros to a multiple of 256 and carry s = 127 / max|row| (so
 * w ~= q / s), the same rule as the per-token activation quantization they are multiplied with.
 */
export class DenseWeights {
  readonly #data: DenseData;
  readonly #scales: Tensor<"f32"> | null;

  /**
   * Wraps stored data without copying: f32/f16/bf16 [rows, cols]; int8 [rows, paddedCols(cols)]
   * with `scales` [rows] (finite, positive). The DenseWeights owns the tensors from then on.
   */
  constructor(
    readonly format: DenseFormat,
    readonly rows: number,
    readonly cols: number,
    data: Tensor,
    scales: Tensor | null = null,
  ) {
    const fn = "DenseWeights";
    checkDenseFormat(fn, "format", format);
    for (const [name, v] of [["rows", rows], ["cols", cols]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${fn}: ${name} must be a positive integer, received ${describe(v)}`);
    }
    if (!(data instanceof Tensor) || data.disposed) throw new TypeError(`${fn}: data must be a live Tensor, received ${describe(data)}`);
    const dtype = STORAGE_DTYPE[format];
    const width = format === "int8" ? paddedCols(cols) : cols;
    if (data.dtype !== dtype || data.ndim !== 2 || data.shape[0] !== rows || data.shape[1] !== width || !data.isContiguous()) {
      throw new RangeError(`${fn}: ${format} data must be a contiguous ${dtype} [${rows}, ${width}] tensor, received ${data.dtype} [${data.shape.join(", ")}]`);
    }
    if (format === "int8") {
      if (!(scales instanceof Tensor) || scales.dtype !== "f32" || scales.numel !== rows) {
        throw new RangeError(`${fn}: int8 weights need scales, an f32 tensor of ${rows} values (rows), received ${describe(scales)}`);
      }
      const s = scales.data();
      for (let i = 0; i < s.length; i++) {
        if (!(Number.isFinite(s[i]) && s[i] > 0)) throw new RangeError(`${fn}: scales[${i}] must be finite and positive, received ${s[i]}`);
      }
    } else if (scales !== null) {
      throw new TypeError(`${fn}: scales belong to int8 weights; pass null for '${format}'`);
    }
    this.#data = data as DenseData;
    this.#scales = scales as Tensor<"f32"> | null;
  }

  /**
   * Stores a float matrix ([rows, cols] f32, f16 or bf16) in `format`. The source is not
   * modified or kept.
   */
  static from(w: Tensor, format: DenseFormat): DenseWeights {
    const fn = "DenseWeights.from";
    checkDenseFormat(fn, "format", format);
    if (!(w instanceof Tensor) || w.disposed) throw new TypeError(`${fn}: w must be a live Tensor, received ${describe(w)}`);
    if (w.ndim !== 2 || !["f32", "f16", "bf16"].includes(w.dtype)) {
      throw new TypeError(`${fn}: w must be a 2-d f32, f16 or bf16 tensor, received ${w.dtype} [${w.shape.join(", ")}]`);
    }
    const [rows, cols] = w.shape;
    if (format !== "int8") {
      // to() of the same dtype is a view; the weights get storage of their own.
      let data: DenseData;
      if (w.dtype === STORAGE_DTYPE[format]) {
        const view = w.detach();
        try {
          data = view.clone() as DenseData;
        } finally {
          view.dispose();
        }
      } else data = w.to(STORAGE_DTYPE[format]) as DenseData;
      return new DenseWeights(format, rows, cols, data);
    }
    const data = Tensor.empty([rows, paddedCols(cols)], "i8", false, fn);
    const scales = Tensor.empty([rows], "f32", false, fn);
    try {
      const step = Math.max(1, Math.floor(CHUNK_ELEMENTS / cols));
      for (let r = 0; r < rows; r += step) {
        const r1 = Math.min(rows, r + step);
        const part = w.slice(0, r, r1);
        const f = part.dtype === "f32" ? part : part.to("f32");
        try {
          const q = quantizeActivationsInt8(f as Tensor<"f32">);
          try {
            data.data().set(q.padded.data(), r * data.shape[1]);
            scales.data().set(q.scales.data(), r);
          } finally {
            q.dispose();
          }
        } finally {
          if (f !== part) f.dispose();
          part.dispose();
        }
      }
    } catch (e) {
      data.dispose();
      scales.dispose();
      throw e;
    }
    return new DenseWeights("int8", rows, cols, data, scales);
  }

  /** The stored data (see the constructor for its shape). */
  get data(): DenseData {
    return this.#data;
  }

  /** int8 row scales (null for float formats). */
  get scales(): Tensor<"f32"> | null {
    return this.#scales;
  }

  get disposed(): boolean {
    return this.#data.disposed;
  }

  /** Bytes of data and scales. */
  get bytes(): number {
    return this.#data.nbytes + (this.#scales?.nbytes ?? 0);
  }

  /** Writes row `row` as f32 into `out` at `offset` (an embedding lookup). */
  readRow(row: number, out: Float32Array, offset = 0): void {
    const c = this.cols;
    if (!Number.isInteger(row) || row < 0 || row >= this.rows) throw new RangeError(`DenseWeights.readRow: row must be an integer in [0, ${this.rows}), received ${describe(row)}`);
    if (offset < 0 || offset + c > out.length) throw new RangeError(`DenseWeights.readRow: out has no room for ${c} values at offset ${offset}`);
    const dst = out.subarray(offset, offset + c);
    switch (this.format) {
      case "f32":
        dst.set((this.#data.data() as Float32Array).subarray(row * c, row * c + c));
        return;
      case "f16":
      case "bf16":
        native.convert((this.#data.data() as Uint16Array).subarray(row * c, row * c + c), this.format, dst, "f32");
        return;
      case "int8": {
        const w = this.#data.shape[1];
        const q = (this.#data.data() as Int8Array).subarray(row * w, row * w + c);
        const s = (this.#scales as Tensor<"f32">).data()[row];
        for (let i = 0; i < c; i++) dst[i] = q[i] / s;
        return;
      }
    }
  }

  /** The whole matrix as f32 [rows, cols] (a new tensor). */
  toFloat32(): Tensor<"f32"> {
    const out = Tensor.empty([this.rows, this.cols], "f32", false, "DenseWeights.toFloat32");
    if (this.format === "f32") out.data().set(this.#data.data() as Float32Array);
    else if (this.format !== "int8") native.convert(this.#data.data() as Uint16Array, this.format, out.data(), "f32");
    else {
      const d = out.data();
      for (let r = 0; r < this.rows; r++) this.readRow(r, d, r * this.cols);
    }
    return out;
  }

  dispose(): void {
    this.#data.dispose();
    this.#scales?.dispose();
  }
}

/**
 * x [M, cols] (f32) times the transposed weights: [M, rows], out[m, n] = x[m] . w[n]. For int8
 * weights x is quantized per row first (the BitNet activation rule) and the int32 dots are
 * scaled by 1 / (s_x s_w). Made for small M (decode steps): each weight byte is read once.
 */
export function denseMatmul(x: Tensor<"f32">, w: DenseWeights, opts?: { out?: Tensor<"f32"> }): Tensor<"f32"> {
  const fn = "denseMatmul";
  if (!(w instanceof DenseWeights) || w.disposed) throw new TypeError(`${fn}: w must be live DenseWeights, received ${describe(w)}`);
  if (!(x instanceof Tensor) || x.disposed || x.dtype !== "f32" || x.ndim !== 2 || x.shape[1] !== w.cols) {
    throw new TypeError(`${fn}: x must be an f32 [M, ${w.cols}] tensor (cols of w), received ${describe(x)}`);
  }
  const m = x.shape[0];
  const n = w.rows;
  const out = opts?.out ?? Tensor.empty([m, n], "f32", false, fn);
  if (out.dtype !== "f32" || out.numel !== m * n || !out.isContiguous()) {
    throw new RangeError(`${fn}: out must be a contiguous f32 tensor of ${m * n} values ([${m}, ${n}]), received ${describe(out)}`);
  }
  if (w.format === "int8") {
    const q = quantizeActivationsInt8(x);
    try {
      const kp = q.padded.shape[1];
      native.denseMatmul(q.padded.data(), m, kp, w.data.data() as Int8Array, "int8", n, q.scales.data(), (w.scales as Tensor<"f32">).data(), out.data());
    } finally {
      q.dispose();
    }
    return out;
  }
  const xc = x.isContiguous() ? x : x.contiguous();
  try {
    native.denseMatmul(xc.data(), m, w.cols, w.data.data() as Float32Array | Uint16Array, w.format, n, null, null, out.data());
  } finally {
    if (xc !== x) xc.dispose();
  }
  return out;
}
