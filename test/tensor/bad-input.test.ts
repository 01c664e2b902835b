// Bad input through the public Tensor API: every creation function, view, conversion and
// runtime control must turn wrong types, wrong dtypes, shape mismatches, out-of-range or
// non-finite numbers, absurd sizes and use-after-dispose into a clear error that names the
// function and the argument, and a failed call must leave memoryStats() where it was (a failing
// op disposes its temporaries). Cases that could crash run again in a child process, and the
// allocation-failure cases run only there, under an address-space cap.
//
// A case may be marked `todo` to document a known problem: it is then reported as a TODO test
// (not a failure) until fixed, with the note as the reason. None is open today.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { nodeShellWords, spawnNode } from "../node-command";
import { constants as bufferConstants } from "node:buffer";
import {
  Tensor, arange, concat, empty, fromArray, full, getIsa, getNumThreads, memoryStats, ones, rand, randn, resolveDevice,
  setIsa, setNumThreads, wrap, zeros, backendInfo, Generator, DType, NestedArray,
} from "../../src";

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

interface TCase {
  label: string;
  call: () => unknown;
  /** The exact class required; an array accepts any of them. */
  error: ErrorClass | ErrorClass[];
  message: RegExp;
  /** A known bug (outside this suite's files): reported as TODO, not as a failure. */
  todo?: string;
}

const ANY = (fn: (...a: never[]) => unknown): ((...a: unknown[]) => unknown) => fn as unknown as (...a: unknown[]) => unknown;
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const TWO40 = 2 ** 40;
/** The largest single tensor storage: Node's buffer limit, capped by the native allocator's 2^40. */
const LIMIT = Math.min(bufferConstants.MAX_LENGTH, TWO40);
const DTYPES = "one of 'f32', 'f16', 'bf16', 'i8', 'i32', 'u8', 'ternary2'";

function stats(): Record<string, number> {
  const s = memoryStats() as unknown as Record<string, number>;
  return { liveTensors: s.liveTensors, liveBytes: s.liveBytes, liveStorages: s.liveStorages, nativeBytes: s.nativeBytes };
}

/** Runs one case; returns what went wrong, or undefined. Also checks that nothing leaked. */
function check(c: TCase): string | undefined {
  const before = stats();
  let outcome: string | undefined;
  let result: unknown;
  try {
    result = c.call();
    if (result instanceof Tensor) {
      outcome = `did not throw (returned a tensor of shape [${result.shape.join(", ")}])`;
      result.dispose();
    } else {
      outcome = `did not throw (returned ${String(result)})`;
    }
  } catch (e) {
    const classes = Array.isArray(c.error) ? c.error : [c.error];
    if (!(e instanceof Error)) outcome = `threw a non-Error ${String(e)}`;
    else if (!classes.includes(e.constructor as ErrorClass)) outcome = `expected ${classes.map((k) => k.name).join(" or ")}, got ${e.constructor.name}: ${e.message}`;
    else if (!c.message.test(e.message)) outcome = `message "${e.message}" does not match ${c.message}`;
  }
  const after = stats();
  const leaked = Object.keys(before).filter((k) => before[k] !== after[k]);
  if (leaked.length > 0) {
    const diff = leaked.map((k) => `${k} ${before[k]} -> ${after[k]}`).join(", ");
    outcome = `${outcome ? outcome + "; " : ""}leaked: ${diff}`;
  }
  return outcome && `${c.label}: ${outcome}`;
}

/** Shape arguments every shape-taking function must reject, with the message part naming them. */
function badShapes(fn: string, arg = "shape"): [string, unknown, ErrorClass, RegExp][] {
  const p = esc(fn);
  return [
    ["a string", "3", TypeError, new RegExp(`^${p}: ${arg} must be an array of integers, received '3'$`)],
    ["a number", 3, TypeError, new RegExp(`^${p}: ${arg} must be an array of integers, received 3$`)],
    ["null", null, TypeError, new RegExp(`^${p}: ${arg} must be an array of integers, received null$`)],
    ["an object", { length: 2 }, TypeError, new RegExp(`^${p}: ${arg} must be an array of integers, received an object$`)],
    ["a typed array", new Int32Array([2, 2]), TypeError, new RegExp(`^${p}: ${arg} must be an array of integers, received Int32Array\\(2\\)$`)],
    ["a string entry", [2, "3"], TypeError, new RegExp(`^${p}: ${arg}\\[1\\] must be a number, received '3'$`)],
    ["a null entry", [null], TypeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a number, received null$`)],
    ["a bigint entry", [2n], TypeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a number, received `)],
    ["a negative size", [2, -2], RangeError, new RegExp(`^${p}: ${arg}\\[1\\] must be a non-negative integer, received -2$`)],
    ["a fractional size", [1.5], RangeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a non-negative integer, received 1.5$`)],
    ["a NaN size", [NaN], RangeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a non-negative integer, received NaN$`)],
    ["an infinite size", [Infinity], RangeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a non-negative integer, received Infinity$`)],
    ["a 2^53 size", [2 ** 53], RangeError, new RegExp(`^${p}: ${arg}\\[0\\] must be a non-negative integer, received 9007199254740992$`)],
    ["2^54 elements in all", [2 ** 27, 2 ** 27], RangeError, new RegExp(`^${p}: ${arg} \\[134217728, 134217728\\] has 18014398509481984 elements, more than 2\\^53$`)],
    ["17 dimensions", new Array(17).fill(1), RangeError, new RegExp(`^${p}: ${arg} must have at most 16 dimensions, received 17$`)],
  ];
}

/** Tensors shared by the view/conversion cases; disposed after the run. */
interface Fixtures {
  x: Tensor; // f32 [2, 3]
  xt: Tensor; // its transpose (not contiguous)
  s: Tensor; // 0-d
  big: Tensor; // f16 [1] holding 300
  neg: Tensor; // f32 [-1, 2]
  nan: Tensor; // f32 [1, NaN]
  inf: Tensor; // f32 [Infinity]
  v3: Tensor; // f32 [3]
  tern: Tensor; // ternary2 [4]
  dead: Tensor; // disposed
  wrapped: Tensor; // over caller memory that was then transferred away (detached)
  wrappedT: Tensor; // a transposed view of it
  all: Tensor[];
}

function fixtures(): Fixtures {
  const x = fromArray([[1, 2, 3], [4, 5, 6]]);
  const xt = x.transpose(0, 1);
  const s = fromArray(7);
  const big = fromArray([300], { dtype: "f16" });
  const neg = fromArray([-1, 2]);
  const nan = fromArray([1, NaN]);
  const inf = fromArray([Infinity]);
  const v3 = fromArray([1, 2, 3]);
  const tern = fromArray([-1, 0, 1, 1], { dtype: "ternary2" });
  const dead = zeros([2, 2]);
  dead.dispose();
  const memory = new Float32Array(6);
  const wrapped = wrap(memory, { shape: [2, 3] });
  const wrappedT = wrapped.transpose(0, 1);
  structuredClone(memory.buffer, { transfer: [memory.buffer] });
  return { x, xt, s, big, neg, nan, inf, v3, tern, dead, wrapped, wrappedT, all: [x, xt, s, big, neg, nan, inf, v3, tern, wrapped, wrappedT] };
}

function creationCases(): TCase[] {
  const cases: TCase[] = [];
  const makers: [string, (shape: unknown, opts?: unknown) => unknown][] = [
    ["zeros", (s, o) => ANY(zeros)(s, o)],
    ["ones", (s, o) => ANY(ones)(s, o)],
    ["empty", (s, o) => ANY(empty)(s, o)],
    ["full", (s, o) => ANY(full)(s, 1, o)],
    ["rand", (s, o) => ANY(rand)(s, o)],
    ["randn", (s, o) => ANY(randn)(s, o)],
  ];
  for (const [fn, make] of makers) {
    for (const [label, shape, error, message] of badShapes(fn)) cases.push({ label: `${fn}: shape is ${label}`, call: () => make(shape), error, message });
    // Absurd sizes that pass the shape check but not one buffer: checked in TS, before alloc()
    // (whose own check stays as the backstop), so the error names the function and its shape.
    cases.push({
      label: `${fn}: 2^40 elements`,
      call: () => make([TWO40]),
      error: RangeError,
      message: new RegExp(`^${fn}: shape \\[1099511627776\\] needs 4398046511104 bytes \\(f32\\), more than the ${LIMIT}-byte limit of one buffer$`),
    });
    cases.push({
      label: `${fn}: 2^31 elements (8 GiB, past Node's buffer limit)`,
      call: () => make([2 ** 16, 2 ** 15]),
      error: RangeError,
      message: new RegExp(`^${fn}: shape \\[65536, 32768\\] needs 8589934592 bytes \\(f32\\), more than the ${LIMIT}-byte limit of one buffer$`),
    });
    if (fn === "zeros" || fn === "rand") cases.push({
      label: `${fn}: 2^40 elements, error named after the function and its shape`,
      call: () => make([TWO40]),
      error: RangeError,
      message: new RegExp(`^${fn}: shape \\[1099511627776\\] needs`),
    });
    // Options.
    cases.push({ label: `${fn}: options null`, call: () => make([2], null), error: TypeError, message: new RegExp(`^${fn}: options must be an object, received null$`) });
    cases.push({ label: `${fn}: options a string`, call: () => make([2], "f32"), error: TypeError, message: new RegExp(`^${fn}: options must be an object, received 'f32'$`) });
    for (const bad of ["f64", "F32", "", "float32", 5, null]) {
      const got = typeof bad === "string" ? `'${bad}'` : String(bad);
      cases.push({ label: `${fn}: dtype ${got}`, call: () => make([2], { dtype: bad }), error: TypeError, message: new RegExp(`^${fn}: dtype must be ${DTYPES}, received ${esc(got)}$`) });
    }
    cases.push({ label: `${fn}: device 5`, call: () => make([2], { device: 5 }), error: TypeError, message: new RegExp(`^${fn}: device must be a string, received 5$`) });
    cases.push({ label: `${fn}: device 'gpu'`, call: () => make([2], { device: "gpu" }), error: RangeError, message: /argument 'device' must be one of 'cpu', 'metal', 'auto', received 'gpu'$/ });
    if (!backendInfo().devices.metal) {
      cases.push({ label: `${fn}: device 'metal' (not built)`, call: () => make([2], { device: "metal" }), error: Error, message: /device 'metal' is not available/ });
    }
  }
  for (const fn of ["rand", "randn"] as const) {
    const f = fn === "rand" ? ANY(rand) : ANY(randn);
    for (const dtype of ["i8", "i32", "u8", "ternary2"]) {
      cases.push({ label: `${fn}: integer dtype ${dtype}`, call: () => f([2], { dtype }), error: TypeError, message: new RegExp(`^${fn}: dtype must be 'f32', 'f16' or 'bf16', received '${dtype}'$`) });
    }
    cases.push({ label: `${fn}: generator {}`, call: () => f([2], { generator: {} }), error: TypeError, message: new RegExp(`^${fn}: generator must be a Generator, received an object$`) });
    for (const seed of [NaN, -1, 1.5, Infinity, 2 ** 64]) {
      cases.push({ label: `${fn}: seed ${seed}`, call: () => f([2], { seed }), error: RangeError, message: new RegExp(`^${fn}: seed must be .*received ${esc(String(seed))}$`) });
    }
    cases.push({ label: `${fn}: seed 2^64 as a bigint`, call: () => f([2], { seed: 2n ** 64n }), error: RangeError, message: new RegExp(`^${fn}: seed must be .*received 18446744073709551616n$`) });
    cases.push({
      label: `${fn}: seed NaN, message names the function`,
      call: () => f([2], { seed: NaN }),
      error: RangeError,
      message: new RegExp(`^${fn}: seed must be a non-negative safe integer or a bigint in \\[0, 2\\^64\\); received NaN$`),
    });
  }
  for (const [k, v] of [["low", NaN], ["high", Infinity], ["low", -Infinity]] as const) {
    cases.push({ label: `rand: ${k} ${v}`, call: () => ANY(rand)([2], { [k]: v }), error: RangeError, message: new RegExp(`^rand: ${k} must be a finite number; received ${v}$`) });
  }
  cases.push({ label: "rand: low > high", call: () => ANY(rand)([2], { low: 2, high: 1 }), error: RangeError, message: /^rand: low must be less than high; received low=2, high=1$/ });
  cases.push({ label: "rand: low == high", call: () => ANY(rand)([2], { low: 1, high: 1 }), error: RangeError, message: /^rand: low must be less than high/ });
  for (const k of ["low", "high"]) {
    cases.push({ label: `rand: ${k} a string is a TypeError`, call: () => ANY(rand)([2], { [k]: "1" }), error: TypeError, message: new RegExp(`^rand: ${k} must be a finite number; received '1'$`) });
  }
  for (const [k, v] of [["mean", NaN], ["std", -1], ["std", Infinity], ["std", NaN]] as const) {
    cases.push({ label: `randn: ${k} ${v}`, call: () => ANY(randn)([2], { [k]: v }), error: RangeError, message: new RegExp(`^randn: ${k} must be a finite.*received ${v}$`) });
  }
  cases.push({ label: "randn: mean a string", call: () => ANY(randn)([2], { mean: "x" }), error: TypeError, message: /^randn: mean must be a finite number; received 'x'$/ });
  cases.push({
    label: "randn: mean a string is a TypeError",
    call: () => ANY(randn)([2], { mean: "x" }),
    error: TypeError,
    message: /^randn: mean/,
  });
  cases.push({ label: "randn: std a string is a TypeError", call: () => ANY(randn)([2], { std: "1" }), error: TypeError, message: /^randn: std must be a finite, non-negative number; received '1'$/ });

  // full: the fill value.
  cases.push({ label: "full: value a string", call: () => ANY(full)([2], "x"), error: TypeError, message: /^full: value must be a number, received 'x'$/ });
  cases.push({ label: "full: value missing", call: () => ANY(full)([2]), error: TypeError, message: /^full: value must be a number, received undefined$/ });
  for (const [dtype, v] of [["i32", NaN], ["i32", 1.5], ["i8", 128], ["u8", -1], ["i32", 2 ** 31], ["i8", Infinity]] as const) {
    cases.push({ label: `full: ${v} as ${dtype}`, call: () => ANY(full)([2], v, { dtype }), error: RangeError, message: new RegExp(`^full: value must be an integer representable as '${dtype}', received ${v}$`) });
  }
  cases.push({ label: "full: 2 as ternary2", call: () => ANY(full)([5], 2, { dtype: "ternary2" }), error: RangeError, message: /^full: value must be -1, 0 or 1 for dtype 'ternary2', received 2$/ });

  // fromArray.
  const fa = ANY(fromArray);
  for (const [label, data, got] of [["a string", "abc", "'abc'"], ["an object", { length: 2, 0: 1, 1: 2 }, "an object"], ["null", null, "null"], ["undefined", undefined, "undefined"], ["a Map", new Map(), "a Map"]] as const) {
    cases.push({ label: `fromArray: data is ${label}`, call: () => fa(data), error: TypeError, message: new RegExp(`^fromArray: data must be a number, a nested array of numbers or a typed array, received ${esc(got)}$`) });
  }
  cases.push({ label: "fromArray: a string element", call: () => fa([1, "x"]), error: TypeError, message: /^fromArray: data\[1\] must be a number, received 'x'$/ });
  cases.push({ label: "fromArray: a null element deep down", call: () => fa([[1], [null]]), error: TypeError, message: /^fromArray: data\[1\]\[0\] must be a number, received null$/ });
  cases.push({ label: "fromArray: ragged nesting", call: () => fa([[1, 2], [3]]), error: RangeError, message: /^fromArray: data\[1\] must be an array of length 2 \(ragged nesting\), received an array of length 1$/ });
  cases.push({ label: "fromArray: a number where an array belongs", call: () => fa([[1, 2], 3]), error: RangeError, message: /^fromArray: data\[1\] must be an array of length 2 \(ragged nesting\), received 3$/ });
  let deep: unknown = 1;
  for (let i = 0; i < 17; i++) deep = [deep];
  cases.push({ label: "fromArray: 17 levels of nesting", call: () => fa(deep), error: RangeError, message: /^fromArray: data \(its nesting\) must have at most 16 dimensions, received 17$/ });
  cases.push({ label: "fromArray: shape with the wrong element count", call: () => fa([1, 2, 3], { shape: [2, 2] }), error: RangeError, message: /^fromArray: shape \[2, 2\] needs 4 elements, data has 3$/ });
  cases.push({ label: "fromArray: shape of 2^40 elements", call: () => fa([1], { shape: [TWO40] }), error: RangeError, message: /^fromArray: shape \[1099511627776\] needs 1099511627776 elements, data has 1$/ });
  for (const [label, shape, error, message] of badShapes("fromArray")) cases.push({ label: `fromArray: opts.shape is ${label}`, call: () => fa([1], { shape }), error, message });
  cases.push({ label: "fromArray: dtype 'f64'", call: () => fa([1], { dtype: "f64" }), error: TypeError, message: new RegExp(`^fromArray: dtype must be ${DTYPES}, received 'f64'$`) });
  for (const [dtype, v] of [["i32", NaN], ["i32", Infinity], ["i32", 1.5], ["i8", 300], ["u8", -1], ["i32", 2 ** 31]] as const) {
    cases.push({ label: `fromArray: ${v} as ${dtype}`, call: () => fa([0, v], { dtype }), error: RangeError, message: new RegExp(`^fromArray: data element 1 is ${v}, not an integer representable as '${dtype}'$`) });
  }
  cases.push({ label: "fromArray: 2 as ternary2", call: () => fa([1, 2], { dtype: "ternary2" }), error: RangeError, message: /element 1 is 2, expected -1, 0 or 1$/ });
  cases.push({ label: "fromArray: NaN as ternary2", call: () => fa([NaN], { dtype: "ternary2" }), error: RangeError, message: /element 0 is NaN, expected -1, 0 or 1$/ });
  cases.push({ label: "fromArray: a BigInt64Array", call: () => fa(new BigInt64Array(2)), error: TypeError, message: /^fromArray: data\[0\] must be a number, received 0n$/ });
  cases.push({
    label: "fromArray: a bigint element is described as a bigint",
    call: () => fa([1, 5n]),
    error: TypeError,
    message: /^fromArray: data\[1\] must be a number, received 5n$/,
  });

  // wrap.
  const wr = ANY(wrap);
  cases.push({ label: "wrap: a plain array", call: () => wr([1, 2]), error: TypeError, message: /^wrap: array must be a typed array, received an array of length 2$/ });
  cases.push({ label: "wrap: an ArrayBuffer", call: () => wr(new ArrayBuffer(8)), error: TypeError, message: /^wrap: array must be a typed array, received an ArrayBuffer$/ });
  cases.push({ label: "wrap: null", call: () => wr(null), error: TypeError, message: /^wrap: array must be a typed array, received null$/ });
  cases.push({ label: "wrap: a Float64Array without a dtype", call: () => wr(new Float64Array(2)), error: TypeError, message: /^wrap: pass a dtype for Float64Array\(2\)$/ });
  cases.push({ label: "wrap: a Float32Array as i32", call: () => wr(new Float32Array(2), { dtype: "i32" }), error: TypeError, message: /^wrap: dtype 'i32' needs an Int32Array, received Float32Array\(2\)$/ });
  cases.push({ label: "wrap: a Uint16Array as f32", call: () => wr(new Uint16Array(2), { dtype: "f32" }), error: TypeError, message: /^wrap: dtype 'f32' needs a Float32Array, received Uint16Array\(2\)$/ });
  cases.push({ label: "wrap: dtype 'f64'", call: () => wr(new Float32Array(2), { dtype: "f64" }), error: TypeError, message: new RegExp(`^wrap: dtype must be ${DTYPES}, received 'f64'$`) });
  cases.push({ label: "wrap: shape too big for the array", call: () => wr(new Float32Array(3), { shape: [2, 2] }), error: RangeError, message: /^wrap: shape \[2, 2\] needs 4 array elements, received 3$/ });
  cases.push({ label: "wrap: ternary2 shape too big", call: () => wr(new Uint8Array(1), { dtype: "ternary2", shape: [5] }), error: RangeError, message: /^wrap: shape \[5\] needs 2 array elements, received 1$/ });
  for (const [label, shape, error, message] of badShapes("wrap")) cases.push({ label: `wrap: shape is ${label}`, call: () => wr(new Float32Array(2), { shape }), error, message });
  const detachedArray = (): Float32Array => {
    const a = new Float32Array(4);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    return a;
  };
  const detachedMessage = (fn: string, arg: string): RegExp =>
    new RegExp(`^${fn}: ${arg} is a view of a detached ArrayBuffer \\(its memory was transferred away\\), received Float32Array\\(0\\)$`);
  cases.push({ label: "wrap: a view of a detached buffer, with a shape", call: () => wr(detachedArray(), { shape: [4] }), error: TypeError, message: detachedMessage("wrap", "array") });
  cases.push({
    label: "wrap: a view of a detached buffer is refused",
    call: () => wr(detachedArray()),
    error: TypeError,
    message: detachedMessage("wrap", "array"),
  });
  cases.push({ label: "Tensor.wrap: a view of a detached buffer is refused", call: () => Tensor.wrap(detachedArray(), [4], "f32"), error: TypeError, message: detachedMessage("Tensor\\.wrap", "array") });
  cases.push({ label: "fromArray: a view of a detached buffer is refused", call: () => fa(detachedArray()), error: TypeError, message: detachedMessage("fromArray", "data") });

  // arange.
  const ar = ANY(arange);
  for (const [name, args] of [["start", [NaN]], ["start", [Infinity]], ["end", [0, -Infinity]], ["end", [0, NaN]], ["step", [0, 10, NaN]], ["step", [0, 10, Infinity]]] as const) {
    const v = (args as readonly number[])[(args as readonly number[]).length - 1];
    cases.push({ label: `arange: ${name} ${v}`, call: () => ar(...args), error: RangeError, message: new RegExp(`^arange: ${name} must be finite, received ${v}$`) });
  }
  for (const [name, args, got] of [["start", ["a"], "'a'"], ["start", [null], "null"], ["end", [0, 5n], "5n"], ["step", [0, 5, "1"], "'1'"]] as const) {
    cases.push({ label: `arange: ${name} ${got}`, call: () => ar(...args), error: TypeError, message: new RegExp(`^arange: ${name} must be a number, received ${esc(got)}$`) });
  }
  cases.push({ label: "arange: step 0", call: () => ar(0, 10, 0), error: RangeError, message: /^arange: step must be non-zero, received 0$/ });
  cases.push({ label: "arange: dtype 'f64'", call: () => ar(0, 4, 1, { dtype: "f64" }), error: TypeError, message: new RegExp(`^arange: dtype must be ${DTYPES}, received 'f64'$`) });
  const tooBig = (range: string, n: number, bytes: number, dtype: string): RegExp =>
    new RegExp(`^arange: ${esc(range)} gives ${n} elements, which need ${bytes} bytes \\(${dtype}\\), more than the ${LIMIT}-byte limit of one buffer$`);
  cases.push({ label: "arange: 2^40 elements", call: () => ar(TWO40), error: RangeError, message: tooBig(`start=0, end=${TWO40}, step=1`, TWO40, 4 * TWO40, "i32") });
  cases.push({
    label: "arange: 2^40 elements, error named",
    call: () => ar(TWO40),
    error: RangeError,
    message: /^arange: start=0, end=1099511627776, step=1 gives 1099511627776 elements/,
  });
  cases.push({ label: "arange: 2^31 elements (8 GiB of i32)", call: () => ar(2 ** 31), error: RangeError, message: tooBig(`start=0, end=${2 ** 31}, step=1`, 2 ** 31, 2 ** 33, "i32") });
  cases.push({ label: "arange: 2^31 fractional steps (f32)", call: () => ar(0, 2 ** 30, 0.5), error: RangeError, message: tooBig(`start=0, end=${2 ** 30}, step=0.5`, 2 ** 31, 2 ** 33, "f32") });
  cases.push({ label: "arange: 2^38 ternary2 elements", call: () => ar(0, 2 ** 38, 1, { dtype: "ternary2" }), error: RangeError, message: tooBig(`start=0, end=${2 ** 38}, step=1`, 2 ** 38, 2 ** 36, "ternary2") });
  cases.push({ label: "arange: more than 2^53 elements", call: () => ar(0, 1e300, 1e-300), error: RangeError, message: /^arange: start=0, end=1e\+300, step=1e-300 gives Infinity elements, more than 2\^53$/ });
  cases.push({ label: "arange: steps of 0.5 as i32", call: () => ar(0, 5, 0.5, { dtype: "i32" }), error: RangeError, message: /^arange: element 1 is 0.5, not an integer representable as 'i32'$/ });
  cases.push({ label: "arange: 0..200 as i8", call: () => ar(0, 200, 1, { dtype: "i8" }), error: RangeError, message: /^arange: element 128 is 128, not an integer representable as 'i8'$/ });
  cases.push({ label: "arange: -1 down to -3 as u8", call: () => ar(-1, -4, -1, { dtype: "u8" }), error: RangeError, message: /^arange: element 0 is -1, not an integer representable as 'u8'$/ });
  cases.push({ label: "arange: 2^31 elements as u8 past 255 (checked before allocating 2 GiB)", call: () => ar(2 ** 31, undefined, 1, { dtype: "u8" }), error: RangeError, message: /^arange: element 256 is 256, not an integer representable as 'u8'$/ });
  cases.push({ label: "arange: 0..3 as ternary2", call: () => ar(0, 3, 1, { dtype: "ternary2" }), error: RangeError, message: /^arange: element 2 is 2, expected -1, 0 or 1 for dtype 'ternary2'$/ });

  // concat.
  cases.push({ label: "concat: not an array", call: () => ANY(concat)("x"), error: TypeError, message: /^concat: tensors must be a non-empty array of tensors, received 'x'$/ });
  cases.push({ label: "concat: an empty array", call: () => ANY(concat)([]), error: TypeError, message: /^concat: tensors must be a non-empty array of tensors, received an array of length 0$/ });
  return cases;
}

function tensorCases(f: Fixtures): TCase[] {
  const { x, xt, s, big, neg, nan, inf, v3, tern, dead, wrapped, wrappedT } = f;
  const cases: TCase[] = [];
  const T = (t: Tensor): Record<string, (...a: unknown[]) => unknown> => t as unknown as Record<string, (...a: unknown[]) => unknown>;

  // concat with tensors.
  const cc = ANY(concat);
  cases.push({ label: "concat: a non-tensor entry", call: () => cc([x, {}]), error: TypeError, message: /^concat: tensors\[1\] must be a Tensor, received an object$/ });
  cases.push({ label: "concat: a disposed entry", call: () => cc([x, dead]), error: Error, message: /^concat: tensors\[1\] was disposed$/ });
  cases.push({ label: "concat: dtype mismatch", call: () => cc([x, big]), error: TypeError, message: /^concat: tensors\[1\] has dtype 'f16', expected 'f32' like tensors\[0\]$/ });
  cases.push({ label: "concat: shape mismatch", call: () => cc([x, xt], 1), error: RangeError, message: /^concat: tensors\[1\] has shape \[3, 2\], expected \[2, \*?\d*\]/ });
  cases.push({ label: "concat: rank mismatch", call: () => cc([x, v3]), error: RangeError, message: /^concat: tensors\[1\] has shape \[3\]/ });
  cases.push({ label: "concat: 0-d tensors", call: () => cc([s, s]), error: RangeError, message: /^concat: cannot concatenate 0-d tensors/ });
  cases.push({ label: "concat: ternary2", call: () => cc([tern, tern]), error: TypeError, message: /^concat: not supported for packed 'ternary2' tensors/ });
  for (const [dim, error, got] of [[2, RangeError, "2"], [-3, RangeError, "-3"], [1.5, RangeError, "1.5"], [NaN, RangeError, "NaN"], ["1", TypeError, "'1'"], [null, TypeError, "null"]] as const) {
    cases.push({ label: `concat: dim ${got}`, call: () => cc([x, x], dim), error, message: new RegExp(`^concat: dim must be an integer${error === RangeError ? " in \\[-2, 1\\] for a 2-d tensor" : ""}, received ${esc(got)}$`) });
  }
  cases.push({
    label: "concat: an entry over freed caller memory",
    call: () => cc([x, wrapped]),
    error: Error,
    message: /^concat: tensors\[1\] has detached memory \(the caller's ArrayBuffer it wraps was transferred away\)$/,
  });
  cases.push({ label: "concat: a transposed view over freed caller memory", call: () => cc([xt, wrappedT], 1), error: Error, message: /^concat: tensors\[1\] has detached memory/ });

  // reshape / view.
  for (const op of ["reshape", "view"] as const) {
    const p = `Tensor\\.${op}`;
    for (const [label, shape, error, message] of badShapes(`Tensor.${op}`)) {
      if (label === "an object" || label === "a typed array" || label === "a number" || label === "a string" || label === "null") {
        cases.push({ label: `${op}: shape is ${label}`, call: () => T(x)[op](shape), error: TypeError, message: new RegExp(`^${p}: shape must be an array of integers, received `) });
      } else if (label === "2^54 elements in all" || label === "a 2^53 size") {
        cases.push({ label: `${op}: shape has ${label}`, call: () => T(x)[op](shape), error: RangeError, message: new RegExp(`^${p}: `) });
      } else {
        cases.push({ label: `${op}: shape has ${label}`, call: () => T(x)[op](shape), error, message });
      }
    }
    cases.push({ label: `${op}: wrong element count`, call: () => T(x)[op]([4]), error: RangeError, message: new RegExp(`^${p}: shape \\[4\\] has 4 elements, the tensor has 6 \\(shape \\[2, 3\\]\\)$`) });
    cases.push({ label: `${op}: 2^40 elements`, call: () => T(x)[op]([TWO40]), error: RangeError, message: new RegExp(`^${p}: shape \\[1099511627776\\] has 1099511627776 elements, the tensor has 6`) });
    cases.push({ label: `${op}: two -1`, call: () => T(x)[op]([-1, -1]), error: RangeError, message: new RegExp(`^${p}: at most one dimension may be -1, received \\[-1, -1\\]$`) });
    cases.push({ label: `${op}: -1 that does not divide`, call: () => T(x)[op]([-1, 4]), error: RangeError, message: new RegExp(`^${p}: cannot infer -1 in \\[-1, 4\\] for 6 elements$`) });
    cases.push({ label: `${op}: -1 beside a 0`, call: () => T(x)[op]([-1, 0]), error: RangeError, message: new RegExp(`^${p}: cannot infer -1`) });
    cases.push({ label: `${op}: -2`, call: () => T(x)[op]([-2, -3]), error: RangeError, message: new RegExp(`^${p}: shape\\[0\\] must be a non-negative integer, received -2$`) });
    cases.push({ label: `${op}: on a disposed tensor`, call: () => T(dead)[op]([4]), error: Error, message: new RegExp(`^${p}: the tensor was disposed$`) });
  }
  cases.push({ label: "reshape of a non-contiguous tensor with a bad shape", call: () => xt.reshape([5]), error: RangeError, message: /^Tensor\.reshape: shape \[5\] has 5 elements/ });
  cases.push({ label: "view of a non-contiguous tensor", call: () => xt.view([6]), error: TypeError, message: /^Tensor\.view: the tensor is not contiguous; use reshape\(\) or contiguous\(\)$/ });

  // transpose / permute.
  for (const [args, error, name, got] of [
    [[0, 2], RangeError, "dim1", "2"], [[-3, 0], RangeError, "dim0", "-3"], [[NaN, 0], RangeError, "dim0", "NaN"], [[0, 0.5], RangeError, "dim1", "0.5"],
    [[0, Infinity], RangeError, "dim1", "Infinity"], [["0", 1], TypeError, "dim0", "'0'"], [[0, null], TypeError, "dim1", "null"], [[0], TypeError, "dim1", "undefined"],
  ] as const) {
    cases.push({
      label: `transpose(${args.map(String).join(", ")})`,
      call: () => T(x).transpose(...args),
      error,
      message: new RegExp(`^Tensor\\.transpose: ${name} must be an integer${error === RangeError ? " in \\[-2, 1\\] for a 2-d tensor" : ""}, received ${esc(got)}$`),
    });
  }
  cases.push({ label: "transpose of ternary2", call: () => tern.transpose(0, 0), error: TypeError, message: /^Tensor\.transpose: not supported for packed 'ternary2' tensors/ });
  cases.push({ label: "permute: a repeated dim", call: () => x.permute([0, 0]), error: RangeError, message: /^Tensor\.permute: dims must be a permutation, dimension 0 appears twice$/ });
  cases.push({ label: "permute: a repeated dim via -1", call: () => x.permute([1, -1]), error: RangeError, message: /^Tensor\.permute: dims must be a permutation, dimension 1 appears twice$/ });
  cases.push({ label: "permute: too few dims", call: () => x.permute([0]), error: RangeError, message: /^Tensor\.permute: dims must list all 2 dimensions, received an array of length 1$/ });
  cases.push({ label: "permute: too many dims", call: () => x.permute([0, 1, 2]), error: RangeError, message: /^Tensor\.permute: dims must list all 2 dimensions, received an array of length 3$/ });
  cases.push({ label: "permute: an out-of-range dim", call: () => x.permute([0, 2]), error: RangeError, message: /^Tensor\.permute: dims\[1\] must be an integer in \[-2, 1\] for a 2-d tensor, received 2$/ });
  cases.push({ label: "permute: a string dim", call: () => T(x).permute([0, "1"]), error: TypeError, message: /^Tensor\.permute: dims\[1\] must be an integer, received '1'$/ });
  cases.push({ label: "permute: a string", call: () => T(x).permute("01"), error: TypeError, message: /^Tensor\.permute: dims must be an array of integers, received '01'$/ });
  cases.push({ label: "permute: a string is a TypeError", call: () => T(x).permute("01"), error: TypeError, message: /^Tensor\.permute: dims/ });
  cases.push({ label: "permute: null", call: () => T(x).permute(null), error: TypeError, message: /^Tensor\.permute: dims must be an array of integers, received null$/ });

  // slice.
  cases.push({ label: "slice: dim out of range", call: () => x.slice(2, 0), error: RangeError, message: /^Tensor\.slice: dim must be an integer in \[-2, 1\] for a 2-d tensor, received 2$/ });
  cases.push({ label: "slice: dim a string", call: () => T(x).slice("0", 0), error: TypeError, message: /^Tensor\.slice: dim must be an integer, received '0'$/ });
  for (const [args, name, got] of [[[0, 0.5], "start", "0.5"], [[0, NaN], "start", "NaN"], [[0, 0, Infinity], "end", "Infinity"], [[0, "1"], "start", "'1'"], [[0, 0, 1n], "end", "1n"]] as const) {
    const v = args[args.length - 1];
    cases.push({ label: `slice(${args.map(String).join(", ")})`, call: () => T(x).slice(...args), error: typeof v === "number" ? RangeError : TypeError, message: new RegExp(`^Tensor\\.slice: ${name} must be an integer, received ${esc(got)}$`) });
  }
  cases.push({ label: "slice: a fractional start is a RangeError", call: () => x.slice(0, 0.5), error: RangeError, message: /^Tensor\.slice: start must be an integer, received 0.5$/ });
  for (const [step, got] of [[0, "0"], [-1, "-1"], [1.5, "1.5"], [NaN, "NaN"], ["2", "'2'"], [null, "null"]] as const) {
    cases.push({ label: `slice: step ${got}`, call: () => T(x).slice(0, 0, 2, step), error: typeof step === "number" ? RangeError : TypeError, message: new RegExp(`^Tensor\\.slice: step must be a positive integer, received ${esc(got)}$`) });
  }
  cases.push({ label: "slice of ternary2", call: () => tern.slice(0, 1), error: TypeError, message: /^Tensor\.slice: not supported for packed 'ternary2' tensors/ });

  // get / item.
  cases.push({ label: "get: too few indices", call: () => x.get(0), error: RangeError, message: /^Tensor\.get: expected 2 indices, received 1$/ });
  cases.push({ label: "get: too many indices", call: () => x.get(0, 0, 0), error: RangeError, message: /^Tensor\.get: expected 2 indices, received 3$/ });
  for (const [args, d, range, got] of [[[2, 0], 0, "\\[-2, 1\\]", "2"], [[0, -4], 1, "\\[-3, 2\\]", "-4"], [[NaN, 0], 0, "\\[-2, 1\\]", "NaN"], [[0, 1.5], 1, "\\[-3, 2\\]", "1.5"], [[0, Infinity], 1, "\\[-3, 2\\]", "Infinity"], [[0, 2 ** 53], 1, "\\[-3, 2\\]", "9007199254740992"]] as const) {
    cases.push({ label: `get(${args.map(String).join(", ")})`, call: () => x.get(...args), error: RangeError, message: new RegExp(`^Tensor\\.get: index ${d} must be an integer in ${range}, received ${got}$`) });
  }
  cases.push({ label: "get: a string index", call: () => T(x).get("0", 0), error: TypeError, message: /^Tensor\.get: index 0 must be an integer in \[-2, 1\], received '0'$/ });
  cases.push({ label: "get: a string index is a TypeError", call: () => T(x).get("0", 0), error: TypeError, message: /^Tensor\.get: index 0/ });
  cases.push({ label: "get: a bigint index", call: () => T(x).get(0, 1n), error: TypeError, message: /^Tensor\.get: index 1 must be an integer in \[-3, 2\], received 1n$/ });
  cases.push({ label: "item of 6 elements", call: () => x.item(), error: RangeError, message: /^Tensor\.item: the tensor must have exactly 1 element, it has 6$/ });

  // to / data.
  for (const [d, got] of [["f64", "'f64'"], [5, "5"], [null, "null"], [undefined, "undefined"], ["F16", "'F16'"]] as const) {
    cases.push({ label: `to(${got})`, call: () => T(x).to(d), error: TypeError, message: new RegExp(`^Tensor\\.to: dtype must be ${DTYPES}, received ${esc(got)}$`) });
  }
  cases.push({ label: "to('i8') of 300 (f16 source, through f32)", call: () => big.to("i8"), error: RangeError, message: /^Tensor\.to\('i8'\): element 0 is 300, outside \[-128, 127\]$/ });
  cases.push({ label: "to('u8') of -1", call: () => neg.to("u8"), error: RangeError, message: /^Tensor\.to\('u8'\): element 0 is -1, outside \[0, 255\]$/ });
  cases.push({ label: "to('i32') of NaN", call: () => nan.to("i32"), error: RangeError, message: /^Tensor\.to\('i32'\): element 1 is NaN, outside/ });
  cases.push({ label: "to('i32') of Infinity", call: () => inf.to("i32"), error: RangeError, message: /^Tensor\.to\('i32'\): element 0 is Infinity, outside/ });
  cases.push({ label: "to('ternary2') of 2 (non-contiguous source)", call: () => xt.to("ternary2"), error: RangeError, message: /^Tensor\.to\('ternary2'\): element 1 is 4, expected -1, 0 or 1$/ });
  cases.push({ label: "data of a non-contiguous tensor", call: () => xt.data(), error: TypeError, message: /^Tensor\.data: the tensor is not contiguous \(strides \[1, 3\]\); call contiguous\(\) first$/ });

  // Caller memory that disappeared under a wrapped tensor: every op says so (an Error naming
  // the method) before it reads the memory or allocates anything.
  for (const [label, op, call] of [
    ["values", "values", () => wrapped.values()],
    ["contiguous of a transposed view", "contiguous", () => wrappedT.contiguous()],
    ["to('f16')", "to", () => wrapped.to("f16")],
    ["to('i32')", "to", () => wrapped.to("i32")],
    ["to('f32') of a transposed view", "to", () => wrappedT.to("f32")],
    ["clone", "clone", () => wrapped.clone()],
    ["clone of a transposed view", "clone", () => wrappedT.clone()],
    ["data", "data", () => wrapped.data()],
    ["storageArray", "storageArray", () => wrapped.storageArray()],
    ["get", "get", () => wrapped.get(0, 0)],
    ["item", "item", () => wrapped.item()],
    ["toArray", "toArray", () => wrappedT.toArray()],
    ["toFloat32Array", "toFloat32Array", () => wrapped.toFloat32Array()],
    ["reshape", "reshape", () => wrappedT.reshape([6])],
    ["view", "view", () => wrapped.view([6])],
    ["transpose", "transpose", () => wrapped.transpose(0, 1)],
    ["slice", "slice", () => wrapped.slice(0, 1)],
  ] as const) {
    cases.push({
      label: `wrapped memory transferred away: ${label}`,
      call,
      error: Error,
      message: new RegExp(`^Tensor\\.${op}: the tensor's memory was detached \\(the caller's ArrayBuffer it wraps was transferred away\\); dispose the tensor$`),
    });
  }
  cases.push({
    label: "wrapped memory transferred away: the tensor reports it",
    call: () => {
      throw new Error(`detached=${wrapped.detached}/${wrappedT.detached}, live tensor ${x.detached}, disposed tensor ${dead.detached}`);
    },
    error: Error,
    message: /^detached=true\/true, live tensor false, disposed tensor false$/,
  });

  cases.push({
    label: "printing a tensor over transferred caller memory",
    call: () => {
      throw new Error(`printed ${String(wrapped)} and ${String(wrappedT)}`);
    },
    error: Error,
    message: /^printed tensor\(<detached>, shape=\[2, 3\], dtype=f32\) and tensor\(<detached>, shape=\[3, 2\], dtype=f32\)$/,
  });

  // Use after dispose: every method says which method and that the tensor was disposed.
  const methods: [string, unknown[]][] = [
    ["reshape", [[4]]], ["view", [[4]]], ["transpose", [0, 1]], ["permute", [[1, 0]]], ["slice", [0, 0, 1]], ["contiguous", []],
    ["clone", []], ["to", ["f16"]], ["toFloat32Array", []], ["toArray", []], ["item", []], ["get", [0, 0]], ["values", []], ["data", []], ["storageArray", []],
  ];
  for (const [m, args] of methods) {
    cases.push({ label: `disposed.${m}()`, call: () => T(dead)[m](...args), error: Error, message: /^Tensor\.\w+: the tensor was disposed$/ });
  }
  for (const m of ["toFloat32Array", "toArray"]) {
    cases.push({
      label: `disposed.${m}() names ${m}`,
      call: () => T(dead)[m](),
      error: Error,
      message: new RegExp(`^Tensor\\.${m}: the tensor was disposed$`),
    });
  }
  return cases;
}

function runtimeCases(): TCase[] {
  const cases: TCase[] = [];
  for (const [v, error, got] of [[0, RangeError, "0"], [-1, RangeError, "-1"], [513, RangeError, "513"], [1.5, RangeError, "1.5"], [NaN, RangeError, "NaN"], [Infinity, RangeError, "Infinity"], ["2", TypeError, "string '2'"], [null, TypeError, "null"], [undefined, TypeError, "undefined"], [2n, TypeError, "a bigint"]] as const) {
    cases.push({ label: `setNumThreads(${got})`, call: () => ANY(setNumThreads)(v), error, message: new RegExp(`^setNumThreads: argument 'threads' must be (an integer in \\[1, 512\\]|a number), received ${esc(error === RangeError ? got : got)}$`) });
  }
  for (const [v, error, got] of [["sse", RangeError, "'sse'"], ["", RangeError, "''"], ["AVX2", RangeError, "'AVX2'"], [5, TypeError, "number 5"], [null, TypeError, "null"]] as const) {
    cases.push({ label: `setIsa(${got})`, call: () => ANY(setIsa)(v), error, message: new RegExp(`^setIsa: argument 'isa' must be (one of 'auto', 'scalar', 'avx2', 'avxvnni', 'avx512', 'neon', 'neon-dotprod', 'neon-i8mm'|a string), received ${esc(got)}$`) });
  }
  const unsupported = ["scalar", "avx2", "avxvnni", "avx512", "neon", "neon-dotprod", "neon-i8mm"].find((i) => !backendInfo().isa.supported.includes(i));
  if (unsupported) {
    cases.push({ label: `setIsa('${unsupported}') (unsupported here)`, call: () => ANY(setIsa)(unsupported), error: RangeError, message: new RegExp(`^setIsa: argument 'isa' must be an ISA this CPU and build support .*received '${unsupported}'$`) });
  }
  for (const [v, error, got] of [["gpu", RangeError, "'gpu'"], ["CPU", RangeError, "'CPU'"], [1, TypeError, "number 1"], [undefined, TypeError, "undefined"]] as const) {
    cases.push({ label: `resolveDevice(${got})`, call: () => ANY(resolveDevice)(v), error, message: new RegExp(`^resolveDevice: argument 'device' must be (one of 'cpu', 'metal', 'auto'|a string), received ${esc(got)}$`) });
  }
  if (!backendInfo().devices.metal) {
    cases.push({ label: "resolveDevice('metal') (not built)", call: () => resolveDevice("metal"), error: Error, message: /device 'metal' is not available: .*use device 'cpu' or 'auto'$/ });
  }
  return cases;
}

/** Every case, fixtures made and disposed around the run. Returns [cases, failures, todo results]. */
function runAll(filter: (c: TCase) => boolean = () => true): { ran: number; failures: string[]; todos: Map<string, string | undefined> } {
  const f = fixtures();
  const failures: string[] = [];
  const todos = new Map<string, string | undefined>();
  let ran = 0;
  try {
    for (const c of [...creationCases(), ...tensorCases(f), ...runtimeCases()].filter(filter)) {
      ran++;
      const r = check(c);
      if (c.todo) todos.set(c.label, r);
      else if (r) failures.push(r);
    }
  } finally {
    f.all.forEach((t) => t.dispose());
  }
  return { ran, failures, todos };
}

function childRun(mode: string, memoryCapKb?: number, extraFlags: string[] = []): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(__filename)})`;
  const env = { ...process.env, BITNET_TENSOR_BAD_INPUT_CHILD: mode };
  const flags = ["--expose-gc", ...extraFlags];
  const r = memoryCapKb
    ? spawnSync("/bin/sh", ["-c", `ulimit -v ${memoryCapKb} && exec ${nodeShellWords()} ${flags.join(" ")} -e "$0"`, script], { env, encoding: "utf8", timeout: 60_000 })
    : spawnNode([...flags, "-e", script], { env, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** In a child capped at ~1.5 GB of address space: 2 GiB tensors pass every check but cannot be had. */
function allocationFailure(): void {
  const before = stats();
  const oom = (e: Error): boolean => e.constructor === RangeError && /^alloc: could not allocate \d+ bytes of tensor storage \(argument 'byteLength'\): out of memory$/.test(e.message);
  assert.throws(() => zeros([2 ** 29]), oom);
  assert.throws(() => empty([2 ** 15, 2 ** 14], { dtype: "i32" }), oom);
  assert.throws(() => ones([2 ** 31], { dtype: "u8" }), oom);
  assert.throws(() => rand([2 ** 29]), oom);
  assert.throws(() => full([2 ** 30], 1, { dtype: "bf16" }), oom);
  assert.throws(() => randn([2 ** 29], { dtype: "f16" }), oom);
  // A tensor alive across the failures is untouched by them.
  const kept = fromArray([1, 2, 3]);
  assert.throws(() => zeros([2 ** 29 - 3]), oom);
  assert.deepEqual(kept.toArray(), [1, 2, 3]);
  kept.dispose();
  assert.deepEqual(stats(), before, "failed allocations leave memoryStats() unchanged");
  const t = zeros([1024]);
  assert.equal(t.data().length, 1024);
  t.dispose();
}

const CHILD = process.env.BITNET_TENSOR_BAD_INPUT_CHILD;

if (CHILD) {
  if (CHILD === "table") {
    const { ran, failures } = runAll((c) => !c.todo);
    console.log(JSON.stringify({ ran, failures }));
  } else if (CHILD === "oom") {
    allocationFailure();
    console.log(JSON.stringify({ ok: true }));
  } else if (CHILD === "arange") {
    try {
      arange(2 ** 31);
    } catch (e) {
      console.log(JSON.stringify({ error: (e as Error).constructor.name, message: (e as Error).message }));
    }
  } else {
    throw new Error(`unknown BITNET_TENSOR_BAD_INPUT_CHILD mode '${CHILD}'`);
  }
} else {
  const threads = getNumThreads();
  const isa = getIsa();

  test("every class of bad input through the public API is a named error, and nothing leaks", (t) => {
    const start = stats();
    const { ran, failures } = runAll((c) => !c.todo);
    assert.ok(ran > 400, `ran ${ran} cases`);
    t.diagnostic(`${ran} bad-input cases through the public API`);
    assert.deepEqual(failures, [], `${failures.length} cases failed:\n${failures.join("\n")}`);
    assert.deepEqual(stats(), start, "memoryStats() is back where it started");
    assert.equal(getNumThreads(), threads);
    assert.equal(getIsa(), isa);
  });

  // Known problems (cases marked `todo`): one TODO test each, with the reason. None is open.
  {
    const f = fixtures();
    const all = [...creationCases(), ...tensorCases(f), ...runtimeCases()].filter((c) => c.todo);
    f.all.forEach((t) => t.dispose());
    for (const c of all) {
      test(`known problem: ${c.label}`, { todo: c.todo }, () => {
        const { failures, todos } = runAll((k) => k.label === c.label);
        assert.deepEqual(failures, []);
        const r = todos.get(c.label);
        assert.equal(r, undefined, r);
      });
    }
  }

  test("valid calls still work after the bad ones (the process and the runtime are intact)", () => {
    const start = stats();
    const a = arange(6, undefined, 1, { dtype: "f32" });
    const t = a.reshape([2, 3]);
    const tt = t.transpose(0, 1);
    const u = tt.contiguous();
    const h = u.to("bf16");
    assert.deepEqual(h.toArray(), [[0, 3], [1, 4], [2, 5]]);
    const c = concat([t, t], 1);
    assert.deepEqual(c.shape, [2, 6]);
    const e = zeros([0, 3]);
    assert.equal(e.numel, 0);
    const r = rand([3], { seed: 1 });
    [a, t, tt, u, h, c, e, r].forEach((k) => k.dispose());
    setNumThreads(threads);
    assert.equal(setIsa(isa as "auto"), isa);
    assert.equal(resolveDevice("auto"), "cpu");
    assert.ok(new Generator(1) instanceof Generator);
    assert.deepEqual(stats(), start);
  });

  test("arange writes each dtype exactly as fromArray of the same values would", () => {
    const start = stats();
    const ranges: [number, number, number][] = [[0, 7, 1], [5, -3, -2], [0.1, 2.3, 0.3], [-1, 2, 1], [1e-3, 70000, 9999.7], [0, 0, 1]];
    for (const dtype of ["f32", "f16", "bf16", "i8", "i32", "u8", "ternary2"] as const) {
      for (const [a, b, step] of ranges) {
        const values: number[] = [];
        for (let v = a, i = 0; step > 0 ? v < b : v > b; v = a + ++i * step) values.push(v);
        let expected: Tensor | undefined;
        try {
          expected = fromArray(values, { dtype, shape: [values.length] });
        } catch {
          // Values this dtype cannot hold: arange must refuse them too.
          assert.throws(() => arange(a, b, step, { dtype }), (e: Error) => e.constructor === RangeError && e.message.startsWith("arange: element "));
          continue;
        }
        const got = arange(a, b, step, { dtype });
        assert.equal(got.dtype, dtype);
        assert.deepEqual(got.shape, expected.shape);
        assert.deepEqual(Array.from(got.data()), Array.from(expected.data()), `arange(${a}, ${b}, ${step}) as ${dtype}`);
        got.dispose();
        expected.dispose();
      }
    }
    const checks: [Tensor, DType, NestedArray][] = [
      [arange(-1, 2, 1, { dtype: "ternary2" }), "ternary2", [-1, 0, 1]],
      [arange(3), "i32", [0, 1, 2]],
      [arange(0, 1, 0.25), "f32", [0, 0.25, 0.5, 0.75]],
    ];
    for (const [t, dtype, values] of checks) {
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), values);
      t.dispose();
    }
    assert.deepEqual(stats(), start);
  });

  test("empty tensors dispose cleanly (zero-byte storage goes back through free())", () => {
    const start = stats();
    for (const shape of [[0], [3, 0], [0, 0, 2]]) {
      const t = zeros(shape);
      const v = t.reshape(shape);
      v.dispose();
      t.dispose();
    }
    const e = empty([0], { dtype: "ternary2" });
    e.dispose();
    assert.deepEqual(stats(), start);
  });

  test("tensors over SharedArrayBuffer memory go through the native copy and convert kernels", () => {
    const memory = new Float32Array(new SharedArrayBuffer(24)).map((_, i) => i);
    const w = wrap(memory, { shape: [2, 3] });
    const t = w.transpose(0, 1).contiguous();
    const h = t.to("f16");
    assert.deepEqual(h.toArray(), [[0, 3], [1, 4], [2, 5]]);
    [w, t, h].forEach((k) => k.dispose());
  });

  test("a disposed tensor's old data() view is harmless", () => {
    const t = fromArray([1, 2, 3]);
    const v = t.data();
    t.dispose();
    assert.equal(v.length, 0);
    v[0] = 5; // a no-op on a detached view, never a write to freed memory
    assert.equal(v[0], undefined);
    t.dispose(); // idempotent
  });

  test("child process: the whole public-API table runs without a crash (exit 0, no signal)", () => {
    const r = childRun("table");
    const tail = r.stderr.split("\n").slice(-8).join("\n");
    assert.equal(r.signal, null, `the child died of ${r.signal}:\n${tail}`);
    assert.equal(r.status, 0, tail);
    const { ran, failures } = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.ok(ran > 400, `ran ${ran}`);
    assert.deepEqual(failures, []);
  });

  // Under ASan the shadow memory alone exceeds the cap and its allocator aborts on huge requests,
  // so the sanitizer run leaves this test out (the release suite in the same CI run has it).
  const sanitized = backendInfo().sanitized;
  const oomSkip = process.platform !== "linux" ? "needs ulimit -v (Linux)" : false;
  if (sanitized) console.log("# allocation-failure test not registered under the sanitizer build (it runs in the release suite)");
  const oomTest = sanitized ? (): void => undefined : test;
  oomTest("allocation failure through the public API is a RangeError, never an abort, and leaks nothing", { skip: oomSkip }, () => {
    const r = childRun("oom", 1_500_000);
    assert.equal(r.signal, null, `the child died of ${r.signal}:\n${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"ok":true/);
  });

  test("arange(2**31) throws a RangeError naming arange instead of exhausting the V8 heap (child process)", () => {
    // A small V8 heap: building the range in a JS array first used to abort the process here.
    const r = childRun("arange", undefined, ["--max-old-space-size=128"]);
    assert.equal(r.signal, null, `the child died of ${r.signal}`);
    assert.equal(r.status, 0, r.stderr.split("\n").slice(0, 3).join("\n"));
    assert.match(r.stdout, /"error":"RangeError","message":"arange: start=0, end=2147483648, step=1 gives 2147483648 elements, which need 8589934592 bytes \(i32\), more than the \d+-byte limit of one buffer"/);
  });
}
