// Bad input against every native binding: each class of bad argument (missing or extra
// arguments, wrong JS type, wrong dtype string, length/shape mismatch, out-of-range or
// non-integer numbers, absurd sizes, detached buffers, foreign buffers, overlapping or
// self-overlapping memory, too many dimensions) must become a TypeError or RangeError whose
// message names the function, the argument, what was expected and what was received; nothing
// may crash the process. The table below must cover every function the addon exports, so a new
// binding without bad-input cases fails this suite.
//
// The same file doubles as the body of child processes (BITNET_BAD_INPUT_CHILD): the whole table
// is replayed in a fresh process, a native abort there is a failed exit status instead of a dead
// test runner, and the allocation-failure and GC-after-free cases run where they cannot hurt us.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants as bufferConstants } from "node:buffer";
import { addon } from "../../src/backend/addon";

type AnyFn = (...args: unknown[]) => unknown;
type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** One bad call and the error it must raise. */
interface Case {
  label: string;
  call: () => unknown;
  error: ErrorClass;
  message: RegExp;
  /** Could crash or hang the process if the check regressed: run only in the child process. */
  risky?: boolean;
}

/** How one parameter is validated, with a valid value for it. */
interface Param {
  name: string;
  kind: "number" | "boolean" | "string" | "typed" | "ints" | "buffer" | "view";
  /** Regex source of the "must be ..." part of a wrong-type message. */
  expected: string;
  valid: () => unknown;
  /** Integer parameters: the accepted range. */
  range?: [number, number];
  /** Typed-array parameters: typed arrays of the wrong element type. */
  wrongTyped?: ArrayBufferView[];
}

interface Binding {
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

const raw = addon() as unknown as Record<string, AnyFn>;
const MAX = bufferConstants.MAX_LENGTH;
const TWO53 = 2 ** 53;
const TWO40 = 2 ** 40;

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A message regex: "fn: argument 'name' must be <expected>, received <got>". */
function msg(fn: string, name: string, expected: string, got: string): RegExp {
  return new RegExp(`^${esc(fn)}: argument '${esc(name)}' must be ${expected}, received ${esc(got)}$`);
}

/** What the binding's describe() prints for a value. */
function described(v: unknown): string {
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
function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
  return Number.isInteger(v) ? v.toFixed(0) : String(v);
}

/** A buffer from alloc() that has been freed (so it and its views are detached). */
function freedBuffer(bytes = 16): ArrayBuffer {
  const b = addon().alloc(bytes, false);
  addon().free(b);
  return b;
}

/** A view made before its alloc()ed buffer was freed. */
function freedView<T extends ArrayBufferView>(ctor: new (b: ArrayBuffer) => T, bytes = 16): T {
  const b = addon().alloc(bytes, false);
  const v = new ctor(b);
  addon().free(b);
  return v;
}

/** A plain JS ArrayBuffer detached by transferring it away. */
function transferred(bytes = 16): ArrayBuffer {
  const b = new ArrayBuffer(bytes);
  structuredClone(b, { transfer: [b] });
  return b;
}

// Wrong values for each kind of parameter (none of them is acceptable to that kind).
const COMMON: unknown[] = [undefined, null, {}, 1n, Symbol("s"), new Map(), () => 0];
const WRONG: Record<Param["kind"], () => unknown[]> = {
  number: () => [...COMMON, "1", true, [1], new Float64Array(1), new Number(1)],
  boolean: () => [...COMMON, 0, 1, "true", [true], new Boolean(true)],
  string: () => [...COMMON, 1, true, ["f32"], new String("f32"), new Uint8Array(2)],
  typed: () => [...COMMON, "x", 4, true, [1, 2, 3, 4], new ArrayBuffer(16), new DataView(new ArrayBuffer(16)), new SharedArrayBuffer(16)],
  ints: () => [...COMMON, "1", 4, true, new Int32Array(1), new Float64Array(1)],
  buffer: () => [...COMMON, "x", 8, [1], new Float32Array(2), new DataView(new ArrayBuffer(8)), new SharedArrayBuffer(8)],
  view: () => [...COMMON, "x", 8, [1], new SharedArrayBuffer(8)],
};

/** Out-of-range or non-integer numbers for an integer parameter accepting [lo, hi]. */
function outOfRange(lo: number, hi: number): number[] {
  const out = [NaN, Infinity, -Infinity, lo + 0.5, lo - 1, hi >= TWO53 ? hi + 2 : hi + 1, -(2 ** 53), 1e300];
  if (lo <= 0.1 && hi >= 0.1) out.push(0.1);
  return out.filter((v) => !(v >= lo && v <= hi && Number.isInteger(v)));
}

/** Arity, wrong-type and out-of-range cases generated from a binding's parameter list. */
function generated(fn: string, b: Binding): Case[] {
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
    const wrong = [...WRONG[p.kind](), ...(p.wrongTyped ?? [])];
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

const F32 = "a Float32Array";
const U16 = "a Uint16Array";
const ANY_TYPED = "an Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array or Float64Array";
const LIVE = " over memory that is still live \\(not freed\\)";
const VIEW = "an ArrayBuffer, a typed array or a DataView" + LIVE;

const info = addon().backendInfo();
const unsupportedIsa = ["scalar", "avx2", "avx512", "neon"].find((i) => !info.isa.supported.includes(i));
const initialThreads = addon().getNumThreads();
const initialIsa = addon().getIsa();

/** stridedCopy's valid arguments, as a fresh array; override some by index. */
function copyArgs(over: Record<number, unknown> = {}): unknown[] {
  const a: unknown[] = [new Float32Array([1, 2, 3, 4, 5, 6]), 0, [3, 1], new Float32Array(6), 0, [1, 2], [2, 3]];
  for (const [k, v] of Object.entries(over)) a[Number(k)] = v;
  return a;
}

const TABLE: Record<string, Binding> = {
  alloc: {
    riskyExtras: true,
    signature: "alloc(byteLength, zero)",
    required: 2,
    params: [
      { name: "byteLength", kind: "number", expected: "a number", valid: () => 64, range: [0, TWO40] },
      { name: "zero", kind: "boolean", expected: "a boolean", valid: () => true },
    ],
    extra: () => {
      const limit = (n: number): Case => ({
        label: `byteLength = ${n} (past the Node.js buffer limit)`,
        call: () => raw.alloc(n, false),
        error: RangeError,
        message: msg("alloc", "byteLength", `at most ${MAX} \\(the largest single buffer this Node.js allows\\)`, String(n)),
      });
      return [limit(TWO40), ...(MAX < TWO40 ? [limit(MAX + 1), limit(MAX + 64)] : [])];
    },
    valid: () => {
      const b = addon().alloc(256, true);
      assert.equal(b.byteLength, 256);
      assert.ok(new Uint8Array(b).every((x) => x === 0));
      assert.ok(addon().alignmentOf(b) >= 64);
      assert.equal(addon().free(b), true);
    },
  },

  free: {
    riskyExtras: true,
    signature: "free(buffer)",
    required: 1,
    params: [{ name: "buffer", kind: "buffer", expected: "an ArrayBuffer", valid: () => addon().alloc(8, false) }],
    extra: () => {
      const foreign = "an ArrayBuffer allocated by bitnet-lab's alloc\\(\\)";
      const mk = (label: string, b: () => ArrayBuffer, got: string): Case => ({
        label,
        call: () => raw.free(b()),
        error: TypeError,
        message: msg("free", "buffer", foreign, got),
      });
      return [
        mk("a JS ArrayBuffer", () => new ArrayBuffer(8), "ArrayBuffer(8)"),
        mk("an empty JS ArrayBuffer", () => new ArrayBuffer(0), "ArrayBuffer(0)"),
        mk("a copy of an alloc()ed buffer", () => addon().alloc(16, false).slice(0), "ArrayBuffer(16)"),
        mk("a copy of an empty alloc()ed buffer", () => addon().alloc(0, false).slice(0), "ArrayBuffer(0)"),
        mk("Node's Buffer pool", () => Buffer.from("pool").buffer as ArrayBuffer, `ArrayBuffer(${(Buffer.from("x").buffer as ArrayBuffer).byteLength})`),
        mk("a resizable ArrayBuffer", () => new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(8, { maxByteLength: 16 }), "ArrayBuffer(8)"),
        {
          label: "a view of an alloc()ed buffer instead of the buffer",
          call: () => raw.free(new Float32Array(addon().alloc(16, false))),
          error: TypeError,
          message: msg("free", "buffer", "an ArrayBuffer", "Float32Array(4)"),
        },
      ];
    },
    valid: () => {
      const b = addon().alloc(32, false);
      const view = new Float32Array(b);
      assert.equal(addon().free(b), true);
      assert.equal(view.length, 0, "views of a freed buffer drop to length 0");
      assert.equal(addon().free(b), false, "a second free is a no-op");
      assert.equal(addon().free(transferred()), false, "a detached buffer is a no-op");
      const empty = addon().alloc(0, true);
      assert.equal(addon().free(empty), true, "zero-byte buffers free too");
      assert.equal(addon().free(empty), false);
    },
  },

  alignmentOf: {
    riskyExtras: true,
    signature: "alignmentOf(view)",
    required: 1,
    params: [{ name: "view", kind: "view", expected: VIEW, valid: () => new Float32Array(4) }],
    extra: () => [
      { label: "a freed buffer", call: () => raw.alignmentOf(freedBuffer()), error: TypeError, message: msg("alignmentOf", "view", VIEW, "a detached (freed) ArrayBuffer") },
      { label: "a transferred buffer", call: () => raw.alignmentOf(transferred()), error: TypeError, message: msg("alignmentOf", "view", VIEW, "a detached (freed) ArrayBuffer") },
      {
        label: "a view of a freed buffer",
        call: () => raw.alignmentOf(freedView(Float64Array)),
        error: TypeError,
        message: msg("alignmentOf", "view", VIEW, "Float64Array(0) over a detached (freed) ArrayBuffer"),
      },
      {
        label: "a DataView of a freed buffer",
        call: () => raw.alignmentOf(freedView(DataView)),
        error: TypeError,
        message: msg("alignmentOf", "view", VIEW, "DataView(0 bytes) over a detached (freed) ArrayBuffer"),
      },
    ],
    valid: () => {
      const b = addon().alloc(128, false);
      assert.ok(addon().alignmentOf(b) >= 64);
      assert.equal(addon().alignmentOf(new Uint8Array(b, 8, 4)), 8);
      assert.equal(addon().alignmentOf(new DataView(b, 4)), 4);
      assert.ok(addon().alignmentOf(new Float32Array(new SharedArrayBuffer(16))) >= 4);
      addon().free(b);
    },
  },

  setBufferLimit: {
    riskyExtras: false,
    signature: "setBufferLimit(byteLength)",
    required: 1,
    params: [{ name: "byteLength", kind: "number", expected: "a number", valid: () => MAX, range: [0, TWO53] }],
    extra: () => [],
    valid: () => {
      addon().setBufferLimit(64);
      try {
        assert.throws(() => addon().alloc(65, false), RangeError);
      } finally {
        addon().setBufferLimit(MAX);
      }
      addon().free(addon().alloc(65, false));
    },
  },

  nativeMemory: {
    riskyExtras: false,
    signature: "nativeMemory()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => {
      const m = addon().nativeMemory();
      assert.ok(Number.isSafeInteger(m.liveBytes) && m.liveBytes >= 0);
      assert.ok(Number.isSafeInteger(m.liveAllocations) && m.liveAllocations >= 0);
    },
  },

  convert: {
    riskyExtras: true,
    signature: "convert(src, srcDtype, dst, dstDtype)",
    required: 4,
    params: [
      { name: "src", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: [new Uint16Array(4), new Float64Array(4), new Int32Array(4), new Uint8ClampedArray(4), new BigInt64Array(4)] },
      { name: "srcDtype", kind: "string", expected: "a string", valid: () => "f32" },
      { name: "dst", kind: "typed", expected: U16, valid: () => new Uint16Array(4), wrongTyped: [new Float32Array(4), new Int16Array(4), new Uint8Array(8), new BigUint64Array(1)] },
      { name: "dstDtype", kind: "string", expected: "a string", valid: () => "f16" },
    ],
    extra: () => {
      const cases: Case[] = [];
      const dtypes = "one of 'f32', 'f16', 'bf16'";
      for (const bad of ["f64", "F32", "", "float32", "i8", "ternary2", "f16 ", "f32\u0000"]) {
        cases.push({ label: `srcDtype '${bad}'`, call: () => raw.convert(new Float32Array(4), bad, new Uint16Array(4), "f16"), error: RangeError, message: msg("convert", "srcDtype", dtypes, `'${bad}'`) });
        cases.push({ label: `dstDtype '${bad}'`, call: () => raw.convert(new Float32Array(4), "f32", new Uint16Array(4), bad), error: RangeError, message: msg("convert", "dstDtype", dtypes, `'${bad}'`) });
      }
      for (const [from, to] of [["f32", "f32"], ["f16", "bf16"], ["bf16", "bf16"], ["f16", "f16"]]) {
        cases.push({
          label: `unsupported pair ${from} -> ${to}`,
          call: () => raw.convert(from === "f32" ? new Float32Array(4) : new Uint16Array(4), from, to === "f32" ? new Float32Array(4) : new Uint16Array(4), to),
          error: RangeError,
          message: new RegExp(`^convert: argument 'dstDtype' must be '.*' when srcDtype is '${from}', received '${to}'$`),
        });
      }
      cases.push(
        { label: "f16 src given as Float32Array", call: () => raw.convert(new Float32Array(4), "f16", new Float32Array(4), "f32"), error: TypeError, message: msg("convert", "src", U16, "Float32Array(4)") },
        { label: "f32 dst given as Uint16Array", call: () => raw.convert(new Uint16Array(4), "bf16", new Uint16Array(4), "f32"), error: TypeError, message: msg("convert", "dst", F32, "Uint16Array(4)") },
        { label: "dst shorter than src", call: () => raw.convert(new Float32Array(5), "f32", new Uint16Array(4), "f16"), error: RangeError, message: msg("convert", "dst", "of length 5 \\(the length of src\\)", "length 4") },
        { label: "dst longer than src", call: () => raw.convert(new Float32Array(4), "f32", new Uint16Array(5), "bf16"), error: RangeError, message: msg("convert", "dst", "of length 4 \\(the length of src\\)", "length 5") },
        { label: "empty src, non-empty dst", call: () => raw.convert(new Float32Array(0), "f32", new Uint16Array(1), "f16"), error: RangeError, message: msg("convert", "dst", "of length 0 \\(the length of src\\)", "length 1") },
        {
          label: "dst overlapping src (same buffer)",
          call: () => {
            const f = new Float32Array(8);
            return raw.convert(f.subarray(0, 4), "f32", new Uint16Array(f.buffer, 4, 4), "f16");
          },
          error: RangeError,
          message: msg("convert", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        {
          label: "dst overlapping src (f16 -> f32 in place)",
          call: () => {
            const buf = new ArrayBuffer(32);
            return raw.convert(new Uint16Array(buf, 0, 4), "f16", new Float32Array(buf, 0, 4), "f32");
          },
          error: RangeError,
          message: msg("convert", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        { label: "src of a freed buffer", call: () => raw.convert(freedView(Float32Array), "f32", new Uint16Array(0), "f16"), error: TypeError, message: msg("convert", "src", F32 + LIVE, "Float32Array(0) over a detached (freed) ArrayBuffer") },
        { label: "dst of a freed buffer", call: () => raw.convert(new Float32Array(0), "f32", freedView(Uint16Array), "f16"), error: TypeError, message: msg("convert", "dst", U16 + LIVE, "Uint16Array(0) over a detached (freed) ArrayBuffer") },
        {
          label: "src of a transferred buffer",
          call: () => {
            const b = new ArrayBuffer(16);
            const v = new Float32Array(b);
            structuredClone(b, { transfer: [b] });
            return raw.convert(v, "f32", new Uint16Array(4), "f16");
          },
          error: TypeError,
          message: msg("convert", "src", F32 + LIVE, "Float32Array(0) over a detached (freed) ArrayBuffer"),
        },
      );
      return cases;
    },
    valid: () => {
      // Non-finite values are data here, not bad input: they convert like any other.
      const src = new Float32Array([1, -2.5, NaN, Infinity, -Infinity, 65504, 1e-8]);
      const half = new Uint16Array(src.length);
      addon().convert(src, "f32", half, "f16");
      const back = new Float32Array(src.length);
      addon().convert(half, "f16", back, "f32");
      assert.deepEqual(Array.from(back).map(String), ["1", "-2.5", "NaN", "Infinity", "-Infinity", "65504", "0"]);
      // SharedArrayBuffer views are ordinary memory.
      const shared = new Float32Array(new SharedArrayBuffer(16)).fill(2);
      const out = new Uint16Array(new SharedArrayBuffer(8));
      addon().convert(shared, "f32", out, "bf16");
      assert.deepEqual(Array.from(out), [0x4000, 0x4000, 0x4000, 0x4000]);
    },
  },

  stridedCopy: {
    riskyExtras: true,
    signature: "stridedCopy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape)",
    required: 7,
    params: [
      { name: "src", kind: "typed", expected: ANY_TYPED, valid: () => copyArgs()[0], wrongTyped: [new BigInt64Array(6), new BigUint64Array(6), new Uint8ClampedArray(6)] },
      { name: "srcOffset", kind: "number", expected: "a number", valid: () => 0, range: [0, TWO53] },
      { name: "srcStrides", kind: "ints", expected: "an array of integers", valid: () => [3, 1], range: [0, TWO53] },
      { name: "dst", kind: "typed", expected: ANY_TYPED, valid: () => new Float32Array(6), wrongTyped: [new BigInt64Array(6), new Uint8ClampedArray(24)] },
      { name: "dstOffset", kind: "number", expected: "a number", valid: () => 0, range: [0, TWO53] },
      { name: "dstStrides", kind: "ints", expected: "an array of integers", valid: () => [1, 2], range: [0, TWO53] },
      { name: "shape", kind: "ints", expected: "an array of integers", valid: () => [2, 3], range: [0, TWO53] },
    ],
    extra: () => {
      const sc = (over: Record<number, unknown>): (() => unknown) => () => raw.stridedCopy(...copyArgs(over));
      const c = (label: string, over: Record<number, unknown>, error: ErrorClass, message: RegExp): Case => ({ label, call: sc(over), error, message });
      const rank = (n: number): string => `an array of length ${n} \\(the rank of shape\\)`;
      const own = (shape: string): string => `strides giving every element of shape ${esc(shape)} its own place in dst \\(no zero or overlapping strides\\)`;
      const detached = (v: ArrayBufferView): string => `${v.constructor.name}(0) over a detached (freed) ArrayBuffer`;
      const f32 = freedView(Float32Array);
      return [
        // element size mismatch
        c("Float64Array src, Float32Array dst", { 0: new Float64Array(6) }, TypeError, msg("stridedCopy", "dst", "a typed array with 8-byte elements like src", "Float32Array(6)")),
        c("Int8Array src, Int16Array dst", { 0: new Int8Array(6), 3: new Int16Array(6) }, TypeError, msg("stridedCopy", "dst", "a typed array with 1-byte elements like src", "Int16Array(6)")),
        // rank mismatches
        c("srcStrides shorter than shape", { 2: [1] }, RangeError, msg("stridedCopy", "srcStrides", rank(2), "length 1")),
        c("dstStrides longer than shape", { 5: [1, 2, 6] }, RangeError, msg("stridedCopy", "dstStrides", rank(2), "length 3")),
        c("17-d shape with 17 strides", { 2: new Array(17).fill(0), 5: new Array(17).fill(0), 6: new Array(17).fill(1) }, RangeError, msg("stridedCopy", "shape", "an array of at most 16 integers", "an array of length 17")),
        // reaching past the end
        c("src strides past the end", { 2: [4, 1] }, RangeError, msg("stridedCopy", "src", "long enough for element index 6", "length 6")),
        c("src offset past the end", { 1: 1 }, RangeError, msg("stridedCopy", "src", "long enough for element index 6", "length 6")),
        c("src offset far past the end", { 1: TWO40, 6: [1, 1], 2: [1, 1], 5: [1, 1] }, RangeError, msg("stridedCopy", "src", `long enough for element index ${TWO40}`, "length 6")),
        c("dst strides past the end", { 5: [1, 3] }, RangeError, msg("stridedCopy", "dst", "long enough for element index 7", "length 6")),
        c("dst offset past the end", { 4: 6 }, RangeError, msg("stridedCopy", "dst", "long enough for element index 11", "length 6")),
        c("0-d copy from an empty src", { 0: new Float32Array(0), 2: [], 5: [], 6: [] }, RangeError, msg("stridedCopy", "src", "long enough for element index 0", "length 0")),
        // absurd sizes
        c("shape of 2^40 elements", { 2: [1], 5: [1], 6: [TWO40] }, RangeError, msg("stridedCopy", "src", `long enough for element index ${TWO40 - 1}`, "length 6")),
        c("shape of 2^53 elements", { 2: [1], 5: [1], 6: [TWO53] }, RangeError, msg("stridedCopy", "src", `long enough for element index ${TWO53 - 1}`, "length 6")),
        c("shape [2^40, 2^40]", { 2: [0, 0], 5: [TWO40, 1], 6: [TWO40, TWO40] }, RangeError, msg("stridedCopy", "dstStrides", "strides whose last element index is below 2\\^53", "a larger span")),
        c("stride spanning past 2^53", { 2: [1, 2 ** 52] }, RangeError, msg("stridedCopy", "srcStrides", "strides whose last element index is below 2\\^53", "a larger span")),
        c("offset plus span reaching 2^53", { 1: TWO53 - 2, 2: [1, 1] }, RangeError, msg("stridedCopy", "srcStrides", "strides whose last element index is below 2\\^53", "a larger span")),
        // dst elements sharing memory (a race between threads, and unbounded work)
        c("zero dst stride", { 5: [0, 1] }, RangeError, msg("stridedCopy", "dstStrides", own("[2, 3]"), "[0, 1]")),
        c("all-zero strides over 2^40 x 4 elements (unbounded work)", { 0: new Float32Array(4), 3: new Float32Array(4), 2: [0, 0], 5: [0, 0], 6: [TWO40, 4] }, RangeError, msg("stridedCopy", "dstStrides", own(`[${TWO40}, 4]`), "[0, 0]")),
        c("overlapping dst strides", { 5: [1, 1] }, RangeError, msg("stridedCopy", "dstStrides", own("[2, 3]"), "[1, 1]")),
        c("dst strides folding rows onto each other", { 5: [2, 1] }, RangeError, msg("stridedCopy", "dstStrides", own("[2, 3]"), "[2, 1]")),
        // src and dst overlapping
        {
          label: "dst is the same array as src",
          call: () => {
            const a = new Float32Array(6);
            return raw.stridedCopy(a, 0, [3, 1], a, 0, [1, 2], [2, 3]);
          },
          error: RangeError,
          message: msg("stridedCopy", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        {
          label: "dst a shifted view of src's buffer",
          call: () => {
            const a = new Float32Array(12);
            return raw.stridedCopy(a, 0, [1], new Float32Array(a.buffer, 8, 6), 0, [1], [6]);
          },
          error: RangeError,
          message: msg("stridedCopy", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        // detached memory
        c("src of a freed buffer", { 0: f32 }, TypeError, msg("stridedCopy", "src", ANY_TYPED + LIVE, detached(f32))),
        c("dst of a freed buffer", { 3: freedView(Float32Array) }, TypeError, msg("stridedCopy", "dst", ANY_TYPED + LIVE, detached(f32))),
        c("src of a freed buffer, empty shape", { 0: freedView(Int8Array), 3: new Int8Array(1), 2: [1], 5: [1], 6: [0] }, TypeError, msg("stridedCopy", "src", ANY_TYPED + LIVE, "Int8Array(0) over a detached (freed) ArrayBuffer")),
        {
          // A getter on shape runs JS in the middle of validation; it frees src. The binding must
          // notice instead of copying from freed memory.
          label: "src freed by a getter while the arguments are read",
          call: () => {
            const b = addon().alloc(24, false);
            const shape = [2, 3];
            Object.defineProperty(shape, 1, {
              get() {
                addon().free(b);
                return 3;
              },
            });
            return raw.stridedCopy(new Float32Array(b), 0, [3, 1], new Float32Array(6), 0, [1, 2], shape);
          },
          error: TypeError,
          message: msg("stridedCopy", "src", ANY_TYPED + LIVE, "Float32Array(0) over a detached (freed) ArrayBuffer"),
        },
        {
          label: "a getter on shape that throws",
          call: () => {
            const shape = [2, 3];
            Object.defineProperty(shape, 0, {
              get() {
                throw new RangeError("stridedCopy test getter");
              },
            });
            return raw.stridedCopy(...copyArgs({ 6: shape }));
          },
          error: RangeError,
          message: /^stridedCopy test getter$/,
        },
      ];
    },
    valid: () => {
      const src = new Float32Array([1, 2, 3, 4, 5, 6]);
      const dst = new Float32Array(6);
      addon().stridedCopy(src, 0, [3, 1], dst, 0, [1, 2], [2, 3]);
      assert.deepEqual(Array.from(dst), [1, 4, 2, 5, 3, 6]);
      // Broadcast reads (zero src strides) are fine, empty shapes copy nothing.
      const b = new Int16Array(4);
      addon().stridedCopy(new Int16Array([7]), 0, [0, 0], b, 0, [2, 1], [2, 2]);
      assert.deepEqual(Array.from(b), [7, 7, 7, 7]);
      addon().stridedCopy(new Float32Array(0), 0, [0, 1], new Float32Array(0), 0, [0, 1], [3, 0]);
      const out = new Uint8Array(4);
      addon().stridedCopy(new Uint8Array(new SharedArrayBuffer(4)).fill(9), 0, [1], out, 0, [1], [4]);
      assert.deepEqual(Array.from(out), [9, 9, 9, 9]);
    },
  },

  setNumThreads: {
    riskyExtras: false,
    signature: "setNumThreads(threads)",
    required: 1,
    params: [{ name: "threads", kind: "number", expected: "a number", valid: () => initialThreads, range: [1, 512] }],
    extra: () => [],
    valid: () => {
      addon().setNumThreads(initialThreads);
      assert.equal(addon().getNumThreads(), initialThreads);
    },
  },

  getNumThreads: {
    riskyExtras: false,
    signature: "getNumThreads()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.equal(addon().getNumThreads(), initialThreads),
  },

  setIsa: {
    riskyExtras: false,
    signature: "setIsa(isa)",
    required: 1,
    params: [{ name: "isa", kind: "string", expected: "a string", valid: () => initialIsa }],
    extra: () => {
      const isas = "one of 'auto', 'scalar', 'avx2', 'avx512', 'neon'";
      const cases: Case[] = ["sse", "", "AVX2", "avx-512", "auto "].map((bad) => ({
        label: `isa '${bad}'`,
        call: () => raw.setIsa(bad),
        error: RangeError,
        message: msg("setIsa", "isa", isas, `'${bad}'`),
      }));
      if (unsupportedIsa) {
        cases.push({
          label: `isa '${unsupportedIsa}' (not supported here)`,
          call: () => raw.setIsa(unsupportedIsa),
          error: RangeError,
          message: msg("setIsa", "isa", `an ISA this CPU and build support \\(best: '${info.isa.best}'\\)`, `'${unsupportedIsa}'`),
        });
      }
      return cases;
    },
    valid: () => {
      assert.equal(addon().setIsa(initialIsa), initialIsa);
      assert.equal(addon().getIsa(), initialIsa);
    },
  },

  getIsa: {
    riskyExtras: false,
    signature: "getIsa()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.equal(addon().getIsa(), initialIsa),
  },

  selectDevice: {
    riskyExtras: false,
    signature: "selectDevice(device)",
    required: 1,
    params: [{ name: "device", kind: "string", expected: "a string", valid: () => "cpu" }],
    extra: () => {
      const cases: Case[] = ["gpu", "CPU", "", "cuda", "metal2"].map((bad) => ({
        label: `device '${bad}'`,
        call: () => raw.selectDevice(bad),
        error: RangeError,
        message: msg("selectDevice", "device", "one of 'cpu', 'metal', 'auto'", `'${bad}'`),
      }));
      if (!info.devices.metal) {
        // A real device this build lacks is not a bad argument: a plain Error that says so.
        cases.push({ label: "device 'metal' (not built)", call: () => raw.selectDevice("metal"), error: Error, message: /^selectDevice: device 'metal' is not available: .*use device 'cpu' or 'auto'$/ });
      }
      return cases;
    },
    valid: () => {
      assert.equal(addon().selectDevice("cpu"), "cpu");
      assert.equal(addon().selectDevice("auto"), "cpu");
    },
  },

  backendInfo: {
    riskyExtras: false,
    signature: "backendInfo()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.deepEqual(addon().backendInfo().isa.supported, info.isa.supported),
  },
};

/** Runs one case; returns a description of what went wrong, or undefined. */
function check(fn: string, c: Case): string | undefined {
  let result: unknown;
  try {
    result = c.call();
  } catch (e) {
    if (!(e instanceof Error)) return `${c.label}: threw a non-Error ${String(e)}`;
    if (e.constructor !== c.error) return `${c.label}: expected ${c.error.name}, got ${e.constructor.name}: ${e.message}`;
    if (!c.message.test(e.message)) return `${c.label}: message "${e.message}" does not match ${c.message}`;
    // Every message starts with the function's name (getter errors are the caller's own).
    if (!e.message.startsWith(fn) && !/test getter/.test(e.message)) return `${c.label}: message "${e.message}" does not name ${fn}`;
    return undefined;
  }
  return `${c.label}: did not throw (returned ${String(result)})`;
}

function casesOf(fn: string): Case[] {
  const b = TABLE[fn];
  return [...generated(fn, b), ...b.extra().map((c) => ({ ...c, risky: c.risky ?? b.riskyExtras }))];
}

/** Runs the whole table; returns [cases run, failures]. */
function runTable(): [number, string[]] {
  let ran = 0;
  const failures: string[] = [];
  for (const fn of Object.keys(TABLE)) {
    for (const c of casesOf(fn)) {
      ran++;
      // Names the case about to run, so a crash can be traced from the child's stderr.
      if (c.risky) process.stderr.write(`running ${fn}: ${c.label}\n`);
      const f = check(fn, c);
      if (f) failures.push(`${fn}: ${f}`);
    }
  }
  for (const fn of Object.keys(TABLE)) {
    try {
      TABLE[fn].valid();
    } catch (e) {
      failures.push(`${fn}: valid call failed after the table: ${(e as Error).message}`);
    }
  }
  return [ran, failures];
}

/** Allocation failure: a request that passes every size check but that the system refuses. */
function allocationFailure(): void {
  const big = 2 ** 31; // under Node's 4 GiB buffer limit, over this child's address-space cap
  const before = addon().nativeMemory();
  for (const zero of [false, true]) {
    assert.throws(
      () => addon().alloc(big, zero),
      (e: Error) => e.constructor === RangeError && new RegExp(`^alloc: could not allocate ${big} bytes of tensor storage \\(argument 'byteLength'\\): out of memory$`).test(e.message),
    );
  }
  // The largest request the size check lets through (with the buffer limit lifted).
  addon().setBufferLimit(TWO40);
  assert.throws(() => addon().alloc(TWO40, false), (e: Error) => e.constructor === RangeError && /out of memory/.test(e.message));
  addon().setBufferLimit(MAX);
  assert.deepEqual(addon().nativeMemory(), before, "a failed allocation holds nothing");
  const ok = addon().alloc(1 << 20, true);
  assert.equal(new Uint8Array(ok)[12345], 0);
  addon().free(ok);
}

/**
 * Buffers freed explicitly, then collected: their finalizers (which Node runs on a later tick)
 * must not free them again, and the ones never freed must be released by the finalizers alone.
 */
async function gcAfterFree(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --expose-gc");
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  };
  await settle();
  const before = addon().nativeMemory();
  for (let round = 0; round < 20; round++) {
    (() => {
      const bufs: ArrayBuffer[] = [];
      for (let i = 0; i < 200; i++) bufs.push(addon().alloc(1024 + 4 * i, i % 2 === 0));
      const views = bufs.map((b) => new Float32Array(b));
      bufs.forEach((b, i) => i % 3 !== 0 && addon().free(b));
      views.forEach((v, i) => assert.equal(v.length, i % 3 !== 0 ? 0 : 256 + i));
    })();
    await settle();
  }
  await settle();
  assert.deepEqual(addon().nativeMemory(), before, "every buffer is released exactly once");
}

const CHILD = process.env.BITNET_BAD_INPUT_CHILD;

function child(mode: string, opts: { memoryCapKb?: number } = {}): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(__filename)})`;
  const env = { ...process.env, BITNET_BAD_INPUT_CHILD: mode };
  const r = opts.memoryCapKb
    ? spawnSync("/bin/sh", ["-c", `ulimit -v ${opts.memoryCapKb} && exec "$0" --expose-gc -e "$1"`, process.execPath, script], { env, encoding: "utf8", timeout: 60_000 })
    : spawnSync(process.execPath, ["--expose-gc", "-e", script], { env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

if (CHILD) {
  // Child mode: no node:test registration; report through the exit status and stdout.
  if (CHILD === "table") {
    const [ran, failures] = runTable();
    console.log(JSON.stringify({ ran, failures }));
  } else if (CHILD === "oom") {
    allocationFailure();
    console.log(JSON.stringify({ ok: true }));
  } else if (CHILD === "gc") {
    gcAfterFree().then(
      () => console.log(JSON.stringify({ ok: true })),
      (e) => {
        console.error(e);
        process.exitCode = 1;
      },
    );
  } else {
    throw new Error(`unknown BITNET_BAD_INPUT_CHILD mode '${CHILD}'`);
  }
} else {
  test("every exported binding has a bad-input case table", () => {
    const exported = Object.keys(addon()).sort();
    assert.deepEqual(Object.keys(TABLE).sort(), exported, "add a TABLE entry (with its bad-input cases) for each new binding");
    for (const fn of exported) {
      assert.equal(typeof raw[fn], "function", `${fn} is a function`);
      const b = TABLE[fn];
      assert.match(b.signature, new RegExp(`^${fn}\\(`));
      // Every parameter gets wrong-type cases; the arity cases are generated for all.
      assert.ok(casesOf(fn).length >= 2 + b.required, `${fn} has cases`);
    }
  });

  for (const fn of Object.keys(TABLE)) {
    test(`${fn}: every class of bad input is a named TypeError/RangeError`, (t) => {
      const cases = casesOf(fn).filter((c) => !c.risky);
      t.diagnostic(`${fn}: ${cases.length} cases here, ${casesOf(fn).length - cases.length} more (risky) in the child process`);
      const failures = cases.map((c) => check(fn, c)).filter((f): f is string => f !== undefined);
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases failed:\n${failures.join("\n")}`);
    });
  }

  test("the process survives the table: a valid call of every binding still works", () => {
    for (const fn of Object.keys(TABLE)) TABLE[fn].valid();
    assert.equal(addon().getNumThreads(), initialThreads);
    assert.equal(addon().getIsa(), initialIsa);
  });

  test("absurd allocation sizes are RangeErrors, not aborts", () => {
    for (const n of [TWO40, TWO40 + 1, TWO53, MAX + 1, 2 ** 64]) {
      assert.throws(() => addon().alloc(n, true), (e: Error) => e.constructor === RangeError && /^alloc: argument 'byteLength' must be /.test(e.message) && e.message.includes(num(n)));
    }
  });

  test("a zero-byte allocation round-trips through free()", () => {
    const before = addon().nativeMemory();
    const b = addon().alloc(0, false);
    assert.equal(b.byteLength, 0);
    assert.equal(addon().free(b), true);
    assert.equal(addon().free(b), false);
    assert.deepEqual(addon().nativeMemory(), before);
  });

  test("child process: the whole table runs without a crash (exit 0, no signal)", () => {
    const r = child("table");
    const tail = r.stderr.split("\n").slice(-5).join("\n");
    assert.equal(r.signal, null, `the child died of ${r.signal}; last lines of its stderr:\n${tail}`);
    assert.equal(r.status, 0, `the child failed; last lines of its stderr:\n${tail}`);
    const { ran, failures } = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const total = Object.keys(TABLE).reduce((n, fn) => n + casesOf(fn).length, 0);
    assert.equal(ran, total, "the child ran every case, risky ones included");
    assert.deepEqual(failures, [], `${failures.length} cases failed in the child:\n${failures.join("\n")}`);
  });

  test("child process: freed buffers collected by the GC are not freed twice", () => {
    const r = child("gc");
    assert.equal(r.signal, null, `the child died of ${r.signal}:\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"ok":true/);
  });

  // Under ASan the shadow memory alone exceeds the cap, and its allocator aborts on huge requests.
  const oomSkip = process.platform !== "linux" ? "needs ulimit -v (Linux)" : info.sanitized ? "not under a sanitizer build" : false;
  test("allocation failure (address space capped in a child) is a RangeError, never an abort", { skip: oomSkip }, () => {
    // Node itself needs about 1 GB of address space; 1.5 GB leaves no room for a 2 GiB buffer,
    // whatever the machine's memory and overcommit settings.
    const r = child("oom", { memoryCapKb: 1_500_000 });
    assert.equal(r.signal, null, `the child died of ${r.signal}:\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"ok":true/);
  });
}
