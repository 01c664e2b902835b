// Bad-input cases of native/src/binding/dense.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, esc, msg, F32, U16, I8, DIM, KMAX, otherTyped, argsOf, caseWith, detachedCases, absurdSizes, lengthIs, OVERLAP } from "./harness";

export const TABLE: Record<string, Binding> = {
  denseMatmul: {
    riskyExtras: true,
    signature: "denseMatmul(x, rows, cols, w, format, outFeatures, xScale, wScale, out)",
    required: 9,
    params: [
      { name: "x", kind: "typed", expected: I8, valid: () => new Int8Array(128), wrongTyped: otherTyped(Int8Array, 128) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 64, range: [0, KMAX] },
      { name: "w", kind: "typed", expected: I8, valid: () => new Int8Array(192), wrongTyped: otherTyped(Int8Array, 192) },
      { name: "format", kind: "string", expected: "a string", valid: () => "int8" },
      { name: "outFeatures", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "xScale", kind: "typed", expected: F32, valid: () => new Float32Array([1, 1]), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "wScale", kind: "typed", expected: F32, valid: () => new Float32Array([1, 1, 1]), wrongTyped: otherTyped(Float32Array, 3) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "denseMatmul";
      const args = argsOf(() => [new Int8Array(128), 2, 64, new Int8Array(192), "int8", 3, new Float32Array([1, 1]), new Float32Array([1, 1, 1]), new Float32Array(6)]);
      const c = caseWith(fn, args);
      const f32Args = argsOf(() => [new Float32Array(6), 2, 3, new Float32Array(12), "f32", 4, null, null, new Float32Array(8)]);
      const cf = caseWith(fn, f32Args);
      const formats = "one of 'f32', 'f16', 'bf16', 'int8'";
      return [
        ...absurdSizes(fn, args, 1, "rows", DIM),
        ...absurdSizes(fn, args, 2, "cols", KMAX),
        ...absurdSizes(fn, args, 5, "outFeatures", DIM),
        ...["", "F32", "fp16", "i8", "int4", "q8_0"].map((bad) => c(`format '${bad}'`, { 4: bad }, RangeError, msg(fn, "format", formats, `'${bad}'`))),
        c("int8 cols not a multiple of 64", { 2: 65 }, RangeError, msg(fn, "cols", esc("a multiple of 64 for int8 (rows padded with zeros)"), "65")),
        c("rows = outFeatures = 2^31", { 1: DIM, 5: DIM }, RangeError, /^denseMatmul: argument '(outFeatures|cols)' must be at most/),
        c("x short", { 0: new Int8Array(127) }, RangeError, msg(fn, "x", lengthIs(128, "rows * cols"), "length 127")),
        c("w long", { 3: new Int8Array(193) }, RangeError, msg(fn, "w", lengthIs(192, "outFeatures * cols"), "length 193")),
        c("out short", { 8: new Float32Array(5) }, RangeError, msg(fn, "out", lengthIs(6, "rows * outFeatures"), "length 5")),
        c("xScale short", { 6: new Float32Array(1) }, RangeError, msg(fn, "xScale", lengthIs(2, "rows"), "length 1")),
        c("wScale long", { 7: new Float32Array(4).fill(1) }, RangeError, msg(fn, "wScale", lengthIs(3, "outFeatures"), "length 4")),
        c("a NaN xScale", { 6: Float32Array.of(1, NaN) }, RangeError, msg(fn, "xScale", "finite positive scales", "xScale[1] = NaN")),
        c("a zero wScale", { 7: Float32Array.of(1, 0, 1) }, RangeError, msg(fn, "wScale", "finite positive scales", "wScale[1] = 0")),
        c("an f32 x for int8", { 0: new Float32Array(128) }, TypeError, msg(fn, "x", I8, "Float32Array(128)")),
        cf("f16 weights as a Float32Array", { 4: "f16" }, TypeError, msg(fn, "w", U16, "Float32Array(12)")),
        cf("scales for f32", { 6: new Float32Array(2) }, TypeError, msg(fn, "xScale", esc("null for format 'f32' (scales belong to int8)"), "Float32Array(2)")),
        cf("an int8 x for f32", { 0: new Int8Array(6) }, TypeError, msg(fn, "x", F32, "Int8Array(6)")),
        cf("f32 w short", { 3: new Float32Array(11) }, RangeError, msg(fn, "w", lengthIs(12, "outFeatures * cols"), "length 11")),
        {
          label: "out over x",
          call: () => {
            const b = new ArrayBuffer(64);
            return raw[fn](new Float32Array(b, 0, 6), 2, 3, new Float32Array(12), "f32", 4, null, null, new Float32Array(b, 0, 8));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("x"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "x", Int8Array, I8],
          [3, "w", Int8Array, I8],
          [8, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One int8 row against three weight rows: exact dots, then / (xScale * wScale).
      const x = new Int8Array(64);
      x[0] = 127;
      x[63] = -5;
      const w = new Int8Array(192);
      w[0] = 2;
      w[63] = 3;
      w[64] = -128;
      w[64 + 63] = 127;
      const out = new Float32Array(3);
      addon().denseMatmul(x, 1, 64, w, "int8", 3, Float32Array.of(2), Float32Array.of(1, 4, 0.5), out);
      assert.deepEqual(Array.from(out), [Math.fround((254 - 15) / 2), Math.fround((-127 * 128 - 5 * 127) / 8), 0]);
    },
  },

};
