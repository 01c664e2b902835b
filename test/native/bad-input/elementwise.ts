// Bad-input cases of native/src/binding/elementwise.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, esc, msg, F32, I8, DIM, KMAX, otherTyped, argsOf, caseWith, detachedCases, lengthIs, OVERLAP } from "./harness";

export const TABLE: Record<string, Binding> = {
  elementwise: {
    riskyExtras: true,
    signature: "elementwise(op, a, b, out)",
    required: 4,
    params: [
      { name: "op", kind: "string", expected: "a string", valid: () => "add" },
      { name: "a", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "b", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
    ],
    extra: () => {
      const fn = "elementwise";
      const args = argsOf(() => ["add", new Float32Array(4), new Float32Array(4), new Float32Array(4)]);
      const c = caseWith(fn, args);
      return [
        c("unknown op", { 0: "pow" }, RangeError, msg(fn, "op", esc("one of 'add', 'sub', 'mul', 'div', 'relu2', 'relu2Backward'"), "'pow'")),
        c("b shorter than a", { 2: new Float32Array(3) }, RangeError, msg(fn, "b", lengthIs(4, "the length of a"), "length 3")),
        c("out longer than a", { 3: new Float32Array(5) }, RangeError, msg(fn, "out", lengthIs(4, "the length of a"), "length 5")),
        c("b given to a unary op", { 0: "relu2" }, TypeError, msg(fn, "b", esc("null (relu2 reads only a)"), "Float32Array(4)")),
        {
          label: "out partly over a",
          call: () => {
            const buf = new Float32Array(6);
            return raw[fn]("add", buf.subarray(0, 4), new Float32Array(4), buf.subarray(2, 6));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("a"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [1, "a", Float32Array, F32],
          [3, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const a = Float32Array.of(1, -2, 3, 0.5);
      const out = new Float32Array(4);
      addon().elementwise("mul", a, Float32Array.of(2, 2, -1, 4), out);
      assert.deepEqual(Array.from(out), [2, -4, -3, 2]);
      addon().elementwise("relu2", a, null, out);
      assert.deepEqual(Array.from(out), [1, 0, 9, 0.25]);
      addon().elementwise("add", a, a, a); // in place
      assert.deepEqual(Array.from(a), [2, -4, 6, 1]);
    },
  },

  sumSquares: {
    riskyExtras: true,
    signature: "sumSquares(x)",
    required: 1,
    params: [{ name: "x", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) }],
    extra: () => detachedCases("sumSquares", argsOf(() => [new Float32Array(3)]), [[0, "x", Float32Array, F32]]),
    valid: () => {
      assert.equal(addon().sumSquares(Float32Array.of(3, 4, 12)), 169);
      assert.equal(addon().sumSquares(new Float32Array(0)), 0);
      const big = new Float32Array(200_000).fill(0.5);
      assert.equal(addon().sumSquares(big), 50_000);
    },
  },

  adamwUpdate: {
    riskyExtras: true,
    signature: "adamwUpdate(p, g, m, v, decay, beta1, beta2, stepSize, bias2Sqrt, eps)",
    required: 10,
    params: [
      { name: "p", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
      { name: "g", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
      { name: "m", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
      { name: "v", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
      { name: "decay", kind: "number", expected: "a number", valid: () => 1 },
      { name: "beta1", kind: "number", expected: "a number", valid: () => 0.9 },
      { name: "beta2", kind: "number", expected: "a number", valid: () => 0.999 },
      { name: "stepSize", kind: "number", expected: "a number", valid: () => 0.01 },
      { name: "bias2Sqrt", kind: "number", expected: "a number", valid: () => 0.1 },
      { name: "eps", kind: "number", expected: "a number", valid: () => 1e-8 },
    ],
    extra: () => {
      const fn = "adamwUpdate";
      const args = argsOf(() => [new Float32Array(3), new Float32Array(3), new Float32Array(3), new Float32Array(3), 1, 0.9, 0.999, 0.01, 0.1, 1e-8]);
      const c = caseWith(fn, args);
      return [
        c("beta1 = 1", { 5: 1 }, RangeError, msg(fn, "beta1", esc("a number in [0, 1)"), "1")),
        c("eps = 0", { 9: 0 }, RangeError, msg(fn, "eps", "a number > 0", "0")),
        c("stepSize NaN", { 7: NaN }, RangeError, msg(fn, "stepSize", "a finite number", "NaN")),
        c("v shorter", { 3: new Float32Array(2) }, RangeError, msg(fn, "v", lengthIs(3, "the length of p"), "length 2")),
        {
          label: "m over p",
          call: () => {
            const p = new Float32Array(3);
            return raw[fn](p, new Float32Array(3), p, new Float32Array(3), 1, 0.9, 0.999, 0.01, 0.1, 1e-8);
          },
          error: RangeError,
          message: msg(fn, "m", OVERLAP("p"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "p", Float32Array, F32],
          [3, "v", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // First step from zero moments: m = 0.1 g, v = 0.001 g^2, p -= 0.01 * m / (sqrt(v) / 0.1 + 1e-8).
      const p = Float32Array.of(1, 1), g = Float32Array.of(0.5, -2), m = new Float32Array(2), v = new Float32Array(2);
      addon().adamwUpdate(p, g, m, v, 1, 0.9, 0.999, 0.01 / 0.1, Math.sqrt(0.001), 1e-8);
      for (let i = 0; i < 2; i++) {
        const mi = 0.1 * g[i], vi = 0.001 * g[i] * g[i];
        assert.equal(m[i], Math.fround(mi));
        assert.equal(p[i], Math.fround(1 - (0.1 * mi) / (Math.sqrt(vi) / Math.sqrt(0.001) + 1e-8)));
      }
    },
  },

  rope: {
    riskyExtras: true,
    signature: "rope(x, out, batch, seq, heads, headDim, cos, sin, offset, sign)",
    required: 10,
    params: [
      { name: "x", kind: "typed", expected: F32, valid: () => new Float32Array(16), wrongTyped: otherTyped(Float32Array, 16) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(16), wrongTyped: otherTyped(Float32Array, 16) },
      { name: "batch", kind: "number", expected: "a number", valid: () => 1, range: [0, DIM] },
      { name: "seq", kind: "number", expected: "a number", valid: () => 2, range: [0, 2 ** 24] },
      { name: "heads", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "headDim", kind: "number", expected: "a number", valid: () => 4, range: [2, 2 ** 16] },
      { name: "cos", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "sin", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "offset", kind: "number", expected: "a number", valid: () => 0, range: [0, 2 ** 24] },
      { name: "sign", kind: "number", expected: "a number", valid: () => 1 },
    ],
    extra: () => {
      const fn = "rope";
      const args = argsOf(() => [new Float32Array(16), new Float32Array(16), 1, 2, 2, 4, new Float32Array(4), new Float32Array(4), 0, 1]);
      const c = caseWith(fn, args);
      return [
        c("odd head size", { 5: 3 }, RangeError, msg(fn, "headDim", "an even number", "3")),
        c("sign 0", { 9: 0 }, RangeError, msg(fn, "sign", esc("1 (forward) or -1 (backward)"), "0")),
        c("tables too short for the offset", { 8: 1 }, RangeError, msg(fn, "cos", esc("of length at least 6 ((offset + seq) * headDim / 2)"), "length 4")),
        c("sin of another length", { 7: new Float32Array(6) }, RangeError, msg(fn, "sin", lengthIs(4, "the length of cos"), "length 6")),
        c("x short", { 0: new Float32Array(15) }, RangeError, msg(fn, "x", lengthIs(16, "batch * seq * heads * headDim"), "length 15")),
        {
          label: "out over x",
          call: () => {
            const x = new Float32Array(16);
            return raw[fn](x, x, 1, 2, 2, 4, new Float32Array(4), new Float32Array(4), 0, 1);
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("x"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "x", Float32Array, F32],
          [6, "cos", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One vector [1, 2 | 3, 4] at an angle with cos 0 and sin 1 rotates to [-3, -4 | 1, 2].
      const out = new Float32Array(4);
      addon().rope(Float32Array.of(1, 2, 3, 4), out, 1, 1, 1, 4, Float32Array.of(0, 0), Float32Array.of(1, 1), 0, 1);
      assert.deepEqual(Array.from(out), [-3, -4, 1, 2]);
      addon().rope(out.slice(), out, 1, 1, 1, 4, Float32Array.of(0, 0), Float32Array.of(1, 1), 0, -1);
      assert.deepEqual(Array.from(out), [1, 2, 3, 4]);
    },
  },

  dequantizeActivations: {
    riskyExtras: true,
    signature: "dequantizeActivations(q, rows, cols, scales, out)",
    required: 5,
    params: [
      { name: "q", kind: "typed", expected: I8, valid: () => new Int8Array(512), wrongTyped: otherTyped(Int8Array, 512) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, KMAX] },
      { name: "scales", kind: "typed", expected: F32, valid: () => new Float32Array([1, 2]), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "dequantizeActivations";
      const args = argsOf(() => [new Int8Array(512), 2, 3, new Float32Array([1, 2]), new Float32Array(6)]);
      const c = caseWith(fn, args);
      return [
        c("q of unpadded rows", { 0: new Int8Array(6) }, RangeError, msg(fn, "q", lengthIs(512, "rows * cols padded to a multiple of 256"), "length 6")),
        c("a zero scale", { 3: new Float32Array([1, 0]) }, RangeError, msg(fn, "scales", "finite positive scales", "scales[1] = 0")),
        c("a NaN scale", { 3: new Float32Array([NaN, 1]) }, RangeError, msg(fn, "scales", "finite positive scales", "scales[0] = NaN")),
        c("out short", { 4: new Float32Array(5) }, RangeError, msg(fn, "out", lengthIs(6, "rows * cols"), "length 5")),
        ...detachedCases(fn, args, [
          [0, "q", Int8Array, I8],
          [4, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const q = new Int8Array(512);
      q.set([127, -128, 3], 0);
      q.set([1, 2, -64], 256);
      const out = new Float32Array(6);
      addon().dequantizeActivations(q, 2, 3, Float32Array.of(127, 64), out);
      assert.deepEqual(Array.from(out), [1, Math.fround(-128 / 127), Math.fround(3 / 127), 1 / 64, 2 / 64, -1]);
    },
  },

  dequantizeTernary: {
    riskyExtras: true,
    signature: "dequantizeTernary(codes, scale, out)",
    required: 3,
    params: [
      { name: "codes", kind: "typed", expected: I8, valid: () => new Int8Array(3), wrongTyped: otherTyped(Int8Array, 3) },
      { name: "scale", kind: "number", expected: "a number", valid: () => 0.5 },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
    ],
    extra: () => {
      const fn = "dequantizeTernary";
      const args = argsOf(() => [new Int8Array(3), 0.5, new Float32Array(3)]);
      const c = caseWith(fn, args);
      return [
        c("a NaN scale", { 1: NaN }, RangeError, msg(fn, "scale", "a finite number", "NaN")),
        c("a scale beyond float32", { 1: 1e39 }, RangeError, msg(fn, "scale", "a number within float32 range", "1e+39")),
        c("out short", { 2: new Float32Array(2) }, RangeError, msg(fn, "out", lengthIs(3, "codes.length"), "length 2")),
        {
          label: "out over codes",
          call: () => {
            const b = new ArrayBuffer(16);
            return raw[fn](new Int8Array(b, 0, 4), 1, new Float32Array(b, 0, 4));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("codes"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "codes", Int8Array, I8],
          [2, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const out = new Float32Array(4);
      addon().dequantizeTernary(Int8Array.of(1, -1, 0, 1), 0.3, out);
      assert.deepEqual(Array.from(out), [Math.fround(0.3), -Math.fround(0.3), 0, Math.fround(0.3)]);
      const big = new Int8Array(100_000).fill(-1);
      const bo = new Float32Array(100_000);
      addon().dequantizeTernary(big, 2.5, bo);
      assert.ok(bo.every((v) => v === -2.5));
    },
  },

};
