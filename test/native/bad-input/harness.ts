// The shared harness of the per-binding bad-input tables (test/native/bad-input/<binding>.ts,
// one per native/src/binding/<binding>.cc): case and parameter types, the generated arity, type
// and range cases, message builders, freed and foreign buffers, and the scalar references the
// tables check valid calls against.
import assert from "node:assert/strict";
import { constants as bufferConstants } from "node:buffer";
import { addon, NativeAddon } from "../../../src/backend/addon";


export type AnyFn = (...args: unknown[]) => unknown;
export type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** One bad call and the error it must raise. */
export interface Case {
  label: string;
  call: () => unknown;
  error: ErrorClass;
  message: RegExp;
  /** Could crash or hang the process if the check regressed: run only in the child process. */
  risky?: boolean;
}

/** How one parameter is validated, with a valid value for it. */
export interface Param {
  name: string;
  kind: "number" | "boolean" | "string" | "typed" | "ints" | "buffer" | "view";
  /** Regex source of the "must be ..." part of a wrong-type message. */
  expected: string;
  valid: () => unknown;
  /** Integer parameters: the accepted range. */
  range?: [number, number];
  /** Typed-array parameters: typed arrays of the wrong element type. */
  wrongTyped?: ArrayBufferView[];
  /** null is a valid value (an optional array). */
  nullable?: boolean;
}

export interface Binding {
  signature: string;
  required: number;
  params: Param[];
  /** Cases beyond the generated arity / type / range ones. */
  extra: () => Case[];
  /**
   * The extra cases touch memory (freed or foreign buffers, overlaps, reads past the end, huge
   * shapes): a regression there is a crash or a hang, so they run in the child process only.
   */
  riskyExtras: boolean;
  /** A valid call that checks its result; run after the table to show the process is healthy. */
  valid: () => void;
}

export const raw = addon() as unknown as Record<string, AnyFn>;
export const MAX = bufferConstants.MAX_LENGTH;
export const TWO53 = 2 ** 53;
export const TWO40 = 2 ** 40;

export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A message regex: "fn: argument 'name' must be <expected>, received <got>". */
export function msg(fn: string, name: string, expected: string, got: string): RegExp {
  return new RegExp(`^${esc(fn)}: argument '${esc(name)}' must be ${expected}, received ${esc(got)}$`);
}

/** What the binding's describe() prints for a value. */
export function described(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return `number ${Number.isInteger(v) ? v.toFixed(0) : String(v)}`;
  if (typeof v === "bigint") return "a bigint";
  if (typeof v === "symbol") return "a symbol";
  if (typeof v === "string") return `string '${v}'`;
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (v instanceof DataView) return `DataView(${v.byteLength} bytes)`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  if (v instanceof ArrayBuffer) return `ArrayBuffer(${v.byteLength})`;
  const name = (v as object).constructor?.name;
  return name && name !== "Object" ? `${/^[AEIO]/i.test(name) ? "an" : "a"} ${name}` : "an object";
}

/** Formats a number the way the binding does in range errors. */
export function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  return Number.isInteger(v) ? v.toFixed(0) : String(v);
}

/** A buffer from alloc() that has been freed (so it and its views are detached). */
export function freedBuffer(bytes = 16): ArrayBuffer {
  const b = addon().alloc(bytes, false);
  addon().free(b);
  return b;
}

/** A view made before its alloc()ed buffer was freed. */
export function freedView<T extends ArrayBufferView>(ctor: new (b: ArrayBuffer) => T, bytes = 16): T {
  const b = addon().alloc(bytes, false);
  const v = new ctor(b);
  addon().free(b);
  return v;
}

/** A plain JS ArrayBuffer detached by transferring it away. */
export function transferred(bytes = 16): ArrayBuffer {
  const b = new ArrayBuffer(bytes);
  structuredClone(b, { transfer: [b] });
  return b;
}

// Wrong values for each kind of parameter (none of them is acceptable to that kind).
export const COMMON: unknown[] = [undefined, null, {}, 1n, Symbol("s"), new Map(), () => 0];
export const WRONG: Record<Param["kind"], () => unknown[]> = {
  number: () => [...COMMON, "1", true, [1], new Float64Array(1), new Number(1)],
  boolean: () => [...COMMON, 0, 1, "true", [true], new Boolean(true)],
  string: () => [...COMMON, 1, true, ["f32"], new String("f32"), new Uint8Array(2)],
  typed: () => [...COMMON, "x", 4, true, [1, 2, 3, 4], new ArrayBuffer(16), new DataView(new ArrayBuffer(16)), new SharedArrayBuffer(16)],
  ints: () => [...COMMON, "1", 4, true, new Int32Array(1), new Float64Array(1)],
  buffer: () => [...COMMON, "x", 8, [1], new Float32Array(2), new DataView(new ArrayBuffer(8)), new SharedArrayBuffer(8)],
  view: () => [...COMMON, "x", 8, [1], new SharedArrayBuffer(8)],
};

/** Out-of-range or non-integer numbers for an integer parameter accepting [lo, hi]. */
export function outOfRange(lo: number, hi: number): number[] {
  const out = [NaN, Infinity, -Infinity, lo + 0.5, lo - 1, hi >= TWO53 ? hi + 2 : hi + 1, -(2 ** 53), 1e300];
  if (lo <= 0.1 && hi >= 0.1) out.push(0.1);
  return out.filter((v) => !(v >= lo && v <= hi && Number.isInteger(v)));
}

/** Arity, wrong-type and out-of-range cases generated from a binding's parameter list. */
export function generated(fn: string, b: Binding): Case[] {
  const f = raw[fn];
  const cases: Case[] = [];
  const validArgs = (): unknown[] => b.params.map((p) => p.valid());
  const arity = (n: number, got: number, kind: "least" | "most"): RegExp => {
    const exact = b.required === b.params.length;
    const count = `${exact ? "" : `at ${kind} `}${n} argument${n === 1 ? "" : "s"}`;
    return new RegExp(`^${esc(b.signature)}: expected ${count}, received ${got}$`);
  };
  for (let n = 0; n < b.required; n++) {
    cases.push({ label: `${n} of ${b.required} arguments`, call: () => f(...validArgs().slice(0, n)), error: TypeError, message: arity(b.required, n, "least") });
  }
  cases.push({ label: "one argument too many", call: () => f(...validArgs(), 0), error: TypeError, message: arity(b.params.length, b.params.length + 1, "most") });
  cases.push({ label: "many arguments too many", call: () => f(...validArgs(), 1, 2, 3, 4, 5, 6, 7, 8), error: TypeError, message: arity(b.params.length, b.params.length + 8, "most") });
  b.params.forEach((p, i) => {
    const wrong = [...WRONG[p.kind](), ...(p.wrongTyped ?? [])].filter((v) => !(p.nullable && v === null));
    for (const w of wrong) {
      cases.push({
        label: `${p.name} = ${described(w)}`,
        call: () => {
          const args = validArgs();
          args[i] = w;
          return f(...args);
        },
        error: TypeError,
        message: msg(fn, p.name, p.expected, described(w)),
      });
    }
    if (p.range && p.kind === "number") {
      const [lo, hi] = p.range;
      for (const v of outOfRange(lo, hi)) {
        cases.push({
          label: `${p.name} = ${num(v)}`,
          call: () => {
            const args = validArgs();
            args[i] = v;
            return f(...args);
          },
          error: RangeError,
          message: msg(fn, p.name, esc(`an integer in [${lo}, ${hi}]`), num(v)),
        });
      }
    }
    if (p.kind === "ints") {
      // Each element is checked like an integer argument of its own.
      for (const [el, error, expected, got] of [
        ["1", TypeError, "a number", "string '1'"],
        [null, TypeError, "a number", "null"],
        [1n, TypeError, "a number", "a bigint"],
        [[1], TypeError, "a number", "an array of length 1"],
        [undefined, TypeError, "a number", "undefined"],
        [NaN, RangeError, esc(`an integer in [${p.range![0]}, ${p.range![1]}]`), "NaN"],
        [-1, RangeError, esc(`an integer in [${p.range![0]}, ${p.range![1]}]`), "-1"],
        [1.5, RangeError, esc(`an integer in [${p.range![0]}, ${p.range![1]}]`), "1.5"],
        [Infinity, RangeError, esc(`an integer in [${p.range![0]}, ${p.range![1]}]`), "Infinity"],
        [TWO53 + 2, RangeError, esc(`an integer in [${p.range![0]}, ${p.range![1]}]`), num(TWO53 + 2)],
      ] as [unknown, ErrorClass, string, string][]) {
        cases.push({
          label: `${p.name}[0] = ${got}`,
          call: () => {
            const args = validArgs();
            const arr = (args[i] as unknown[]).slice();
            arr[0] = el;
            args[i] = arr;
            return f(...args);
          },
          error,
          message: msg(fn, `${p.name}[0]`, expected, got),
        });
      }
      cases.push({
        label: `${p.name} with a hole`,
        call: () => {
          const args = validArgs();
          const arr = new Array((args[i] as unknown[]).length);
          args[i] = arr;
          return f(...args);
        },
        error: TypeError,
        message: msg(fn, `${p.name}[0]`, "a number", "undefined"),
      });
      cases.push({
        label: `${p.name} with 17 entries`,
        call: () => {
          const args = validArgs();
          args[i] = new Array(17).fill(1);
          return f(...args);
        },
        error: RangeError,
        message: msg(fn, p.name, "an array of at most 16 integers", "an array of length 17"),
      });
    }
  });
  return cases;
}

export const F32 = "a Float32Array";
export const U16 = "a Uint16Array";
export const ANY_TYPED = "an Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array or Float64Array";
export const LIVE = " over memory that is still live \\(not freed\\)";
export const VIEW = "an ArrayBuffer, a typed array or a DataView" + LIVE;

export const info = addon().backendInfo();
export const unsupportedIsa = ["scalar", "avx2", "avxvnni", "avx512", "neon", "neon-dotprod", "neon-i8mm"].find((i) => !info.isa.supported.includes(i));
export const initialThreads = addon().getNumThreads();
export const initialIsa = addon().getIsa();

/** stridedCopy's valid arguments, as a fresh array; override some by index. */
export function copyArgs(over: Record<number, unknown> = {}): unknown[] {
  const a: unknown[] = [new Float32Array([1, 2, 3, 4, 5, 6]), 0, [3, 1], new Float32Array(6), 0, [1, 2], [2, 3]];
  for (const [k, v] of Object.entries(over)) a[Number(k)] = v;
  return a;
}

// ---- Helpers for the BitNet b1.58 bindings (quantization, ternary packing, ternary matmul). ----

export const I8 = "an Int8Array";
export const U8 = "a Uint8Array";
export const I32 = "an Int32Array";
export const F64 = "a Float64Array";
/** Range bounds of the quant bindings' sizes: rows / outFeatures, and cols of activations. */
export const DIM = 2 ** 31;
export const KMAX = 2 ** 22;
export const DETACHED = " over a detached (freed) ArrayBuffer";

export type TypedCtor = new (n: number) => ArrayBufferView;
export const TYPED_CTORS: TypedCtor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

/** Typed arrays of length n of every element type except `keep`. */
export function otherTyped(keep: TypedCtor, n: number): ArrayBufferView[] {
  return TYPED_CTORS.filter((c) => c !== keep).map((c) => new c(n));
}

/** A builder of a binding's valid arguments (fresh each call), some overridden by index. */
export function argsOf(base: () => unknown[]): (over?: Record<number, unknown>) => unknown[] {
  return (over = {}) => {
    const a = base();
    for (const [k, v] of Object.entries(over)) a[Number(k)] = v;
    return a;
  };
}

/** A case builder calling `fn` with its valid arguments, some overridden by index. */
export function caseWith(fn: string, args: (over?: Record<number, unknown>) => unknown[]) {
  return (label: string, over: Record<number, unknown>, error: ErrorClass, message: RegExp): Case => ({ label, call: () => raw[fn](...args(over)), error, message });
}

/** Freed-buffer cases (alloc()ed then freed, plus one transferred) for each typed-array argument. */
export function detachedCases(fn: string, args: (over?: Record<number, unknown>) => unknown[], typed: [number, string, TypedCtor, string][]): Case[] {
  const cases: Case[] = [];
  for (const [i, name, ctor, expected] of typed) {
    const got = `${ctor.name}(0)${DETACHED}`;
    cases.push({ label: `${name} of a freed buffer`, call: () => raw[fn](...args({ [i]: freedView(ctor as unknown as new (b: ArrayBuffer) => ArrayBufferView) })), error: TypeError, message: msg(fn, name, expected + LIVE, got) });
    cases.push({
      label: `${name} of a transferred buffer`,
      call: () => {
        const b = new ArrayBuffer(64);
        const v = new (ctor as unknown as new (b: ArrayBuffer) => ArrayBufferView)(b);
        structuredClone(b, { transfer: [b] });
        return raw[fn](...args({ [i]: v }));
      },
      error: TypeError,
      message: msg(fn, name, expected + LIVE, got),
    });
  }
  return cases;
}

/** Out-of-range and absurd sizes for the integer argument at index i (beyond the generated ones). */
export function absurdSizes(fn: string, args: (over?: Record<number, unknown>) => unknown[], i: number, name: string, hi: number): Case[] {
  return [hi + 1, TWO40, TWO53, TWO53 + 2, 2 ** 64, -TWO40, 1.5, hi - 0.5, Number.MAX_VALUE, Number.EPSILON].map((v) => ({
    label: `${name} = ${num(v)}`,
    call: () => raw[fn](...args({ [i]: v })),
    error: RangeError,
    message: msg(fn, name, esc(`an integer in [0, ${hi}]`), num(v)),
  }));
}

export const lengthIs = (n: number | bigint, why: string): string => `of length ${n} \\(${esc(why)}\\)`;
export const OVERLAP = (other: string): string => `memory that does not overlap ${other}`;

/** Rounds half to even, like nearbyint() in the default rounding mode and torch.round. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A deterministic pseudo-random sequence in [0, 1). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The activation recipe in float32: s = 127 / max(amax, 1e-5), q = clamp(round(x * s)). */
export function refQuantizeActivations(x: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array; sums: Int32Array } {
  const kp = Math.ceil(cols / 256) * 256;
  const q = new Int8Array(rows * kp);
  const scales = new Float32Array(rows);
  const sums = new Int32Array(rows);
  const eps = Math.fround(1e-5);
  for (let r = 0; r < rows; r++) {
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(x[r * cols + c]));
    const s = Math.fround(127 / (amax > eps ? amax : eps));
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const v = Math.min(127, Math.max(-128, roundHalfEven(Math.fround(x[r * cols + c] * s))));
      q[r * kp + c] = v;
      sum += v;
    }
    scales[r] = s;
    sums[r] = sum;
  }
  return { q, scales, sums };
}

/** Absmean ternary quantization of one span: s = max(mean|w|, 1e-5) (double sum in 4096-chunks). */
export function refQuantizeSpan(w: Float32Array, codes: Int8Array): number {
  let total = 0;
  for (let c = 0; c < w.length; c += 4096) {
    let part = 0;
    for (let i = c; i < Math.min(w.length, c + 4096); i++) part += Math.abs(w[i]);
    total += part;
  }
  const eps = Math.fround(1e-5);
  let s = w.length === 0 ? eps : Math.fround(total / w.length);
  s = s > eps ? s : eps;
  for (let i = 0; i < w.length; i++) codes[i] = Math.min(1, Math.max(-1, roundHalfEven(Math.fround(w[i] / s))));
  return s;
}

export function refQuantizeWeights(w: Float32Array, rows: number, cols: number, mode: "tensor" | "channel" | "group128"): { codes: Int8Array; scales: Float32Array } {
  const codes = new Int8Array(rows * cols);
  if (mode === "tensor") return { codes, scales: Float32Array.of(refQuantizeSpan(w, codes)) };
  const span = mode === "channel" ? Math.max(cols, 1) : 128;
  const groups = mode === "channel" ? 1 : Math.ceil(cols / 128);
  const scales = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const begin = r * cols + g * span;
      const end = r * cols + Math.min(cols, (g + 1) * span);
      scales[r * groups + g] = refQuantizeSpan(w.subarray(begin, end), codes.subarray(begin, end));
    }
  }
  return { codes, scales };
}

/**
 * Packed bytes of an [n, k] ternary matrix in each layout. tl256 stores rows in groups of four
 * (n padded to a multiple of 4 with zero rows), each row Kp / 4 bytes.
 */
export function packedBytes(layout: "tl256" | "i2s" | "hf", n: number, k: number): number {
  return layout === "tl256" ? Math.ceil(n / 4) * 4 * (Math.ceil(k / 256) * 64) : layout === "i2s" ? (n * k) / 4 : (n / 4) * k;
}

/**
 * Byte of block `block` of row `row` in a tl256 matrix of padded row length kp: for each block,
 * a group of four rows holds the 64-byte blocks of its rows 0, 1, 2, 3 back to back.
 */
export function tl256Offset(kp: number, row: number, block: number): number {
  return Math.floor(row / 4) * kp + block * 256 + (row % 4) * 64;
}

/** Ternary weights (-1, 0, 1) from a seed. */
export function ternaryWeights(n: number, seed: number): Int8Array {
  const r = lcg(seed);
  return Int8Array.from({ length: n }, () => Math.floor(r() * 3) - 1);
}

// Valid arguments of the five quant bindings (every call gets fresh arrays).
export const qaArgs = argsOf(() => [new Float32Array([0.5, -1, 0.25, 2, -0.5, 1]), 2, 3, new Int8Array(512), new Float32Array(2), new Int32Array(2)]);
export const qwArgs = argsOf(() => [new Float32Array([0.5, -1, 0.25, 0, 2, -0.1]), 2, 3, "channel", new Int8Array(6), new Float32Array(2)]);
// tl256 buffers: 2 or 3 rows are one group of four (padded with zero rows) of one block: 4 * 64 bytes.
export const packArgs = argsOf(() => [new Int8Array([1, -1, 0, 0, 1, -1]), 2, 3, "tl256", new Uint8Array(256)]);
export const unpackArgs = argsOf(() => [new Uint8Array(256).fill(0x55), 2, 3, "tl256", new Int8Array(6)]);
export const mmArgs = argsOf(() => [new Int8Array(512), 2, 3, new Float32Array([1, 1]), new Int32Array(2), new Uint8Array(256).fill(0x55), 3, new Float32Array([1]), new Float32Array(6)]);

/** sgemm and sgemmBf16 take the same arguments and validate them the same way. */
export function gemmEntry(fn: "sgemm" | "sgemmBf16"): Binding {
  return {
      riskyExtras: true,
      signature: `${fn}(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`,
      required: 13,
      params: [
        { name: "transA", kind: "boolean", expected: "a boolean", valid: () => false },
        { name: "transB", kind: "boolean", expected: "a boolean", valid: () => false },
        { name: "m", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
        { name: "n", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
        { name: "k", kind: "number", expected: "a number", valid: () => 4, range: [0, DIM] },
        { name: "alpha", kind: "number", expected: "a number", valid: () => 1 },
        { name: "a", kind: "typed", expected: F32, valid: () => new Float32Array(8), wrongTyped: otherTyped(Float32Array, 8) },
        { name: "lda", kind: "number", expected: "a number", valid: () => 4, range: [1, DIM] },
        { name: "b", kind: "typed", expected: F32, valid: () => new Float32Array(12), wrongTyped: otherTyped(Float32Array, 12) },
        { name: "ldb", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
        { name: "beta", kind: "number", expected: "a number", valid: () => 0 },
        { name: "c", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
        { name: "ldc", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      ],
      extra: () => {
        const args = argsOf(() => [false, false, 2, 3, 4, 1, new Float32Array(8), 4, new Float32Array(12), 3, 0, new Float32Array(6), 3]);
        const c = caseWith(fn, args);
        const atLeast = (n: number, shape: string, ld: string, v: number): string => `of length at least ${n} \\(${esc(shape)} with ${ld} ${v}\\)`;
        return [
          c("alpha NaN", { 5: NaN }, RangeError, msg(fn, "alpha", "a finite number", "NaN")),
          c("alpha Infinity", { 5: Infinity }, RangeError, msg(fn, "alpha", "a finite number", "Infinity")),
          c("alpha beyond float32", { 5: 1e39 }, RangeError, msg(fn, "alpha", "a number within float32 range", "1e+39")),
          c("beta -Infinity", { 10: -Infinity }, RangeError, msg(fn, "beta", "a finite number", "-Infinity")),
          c("a one element short", { 6: new Float32Array(7) }, RangeError, msg(fn, "a", atLeast(8, "m x k", "lda", 4), "length 7")),
          c("lda below k", { 7: 3 }, RangeError, msg(fn, "lda", esc("at least 4 (the row length of a, m x k)"), "3")),
          c("a transposed: k x m", { 0: true, 7: 2, 6: new Float32Array(7) }, RangeError, msg(fn, "a", atLeast(8, "k x m, transposed", "lda", 2), "length 7")),
          c("b transposed: n x k, too short", { 1: true, 9: 4, 8: new Float32Array(11) }, RangeError, msg(fn, "b", atLeast(12, "n x k, transposed", "ldb", 4), "length 11")),
          c("c with a wider ldc", { 12: 5 }, RangeError, msg(fn, "c", atLeast(8, "m x n", "ldc", 5), "length 6")),
          c("absurd m with small arrays", { 2: DIM, 6: new Float32Array(8) }, RangeError, msg(fn, "a", atLeast((DIM - 1) * 4 + 4, "m x k", "lda", 4), "length 8")),
          {
            label: "c overlapping a",
            call: () => {
              const buf = new Float32Array(20);
              return raw[fn](false, false, 2, 3, 4, 1, buf.subarray(0, 8), 4, new Float32Array(12), 3, 0, buf.subarray(6, 12), 3);
            },
            error: RangeError,
            message: msg(fn, "c", OVERLAP("a"), "an overlapping view"),
          },
          {
            label: "c overlapping b",
            call: () => {
              const buf = new Float32Array(20);
              return raw[fn](false, false, 2, 3, 4, 1, new Float32Array(8), 4, buf.subarray(0, 12), 3, 0, buf.subarray(10, 16), 3);
            },
            error: RangeError,
            message: msg(fn, "c", OVERLAP("b"), "an overlapping view"),
          },
          ...detachedCases(fn, args, [
            [6, "a", Float32Array, F32],
            [8, "b", Float32Array, F32],
            [11, "c", Float32Array, F32],
          ]),
        ];
      },
      valid: () => {
        // [2 x 4] @ [4 x 3], then the same with both operands stored transposed, then beta = 1.
        const a = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
        const b = Float32Array.from([1, 0, 2, 0, 1, 0, -1, 0, 1, 2, 2, 2]);
        const want = [1 * 1 + 2 * 0 - 3 * 1 + 4 * 2, 0 + 2 * 1 + 0 + 4 * 2, 2 + 0 + 3 + 8, 5 + 0 - 7 + 16, 6 + 0 + 16, 10 + 7 + 16];
        const c = new Float32Array(6).fill(NaN);
        (addon()[fn] as NativeAddon["sgemm"])(false, false, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3);
        assert.deepEqual(Array.from(c), want);
        const at = Float32Array.from([1, 5, 2, 6, 3, 7, 4, 8]);
        const bt = Float32Array.from([1, 0, -1, 2, 0, 1, 0, 2, 2, 0, 1, 2]);
        (addon()[fn] as NativeAddon["sgemm"])(true, true, 2, 3, 4, 2, at, 2, bt, 4, 1, c, 3);
        assert.deepEqual(Array.from(c), want.map((v) => 3 * v));
        (addon()[fn] as NativeAddon["sgemm"])(false, false, 0, 0, 0, 1, new Float32Array(0), 1, new Float32Array(0), 1, 0, new Float32Array(0), 1);
      },
    };
}

