// Bad-input cases of native/src/binding/norm.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, esc, msg, F32, I32, F64, DIM, otherTyped, argsOf, caseWith, detachedCases, lengthIs, OVERLAP } from "./harness";

export const TABLE: Record<string, Binding> = {
  crossEntropyForward: {
    riskyExtras: true,
    signature: "crossEntropyForward(logits, rows, classes, targets, ignoreIndex, lse, loss)",
    required: 7,
    params: [
      { name: "logits", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "classes", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      { name: "targets", kind: "typed", expected: I32, valid: () => Int32Array.of(0, 2), wrongTyped: otherTyped(Int32Array, 2) },
      { name: "ignoreIndex", kind: "number", expected: "a number", valid: () => -100, range: [-(2 ** 31), 2 ** 31 - 1], nullable: true },
      { name: "lse", kind: "typed", expected: F64, valid: () => new Float64Array(2), wrongTyped: otherTyped(Float64Array, 2) },
      { name: "loss", kind: "typed", expected: F64, valid: () => new Float64Array(2), wrongTyped: otherTyped(Float64Array, 2) },
    ],
    extra: () => {
      const fn = "crossEntropyForward";
      const args = argsOf(() => [new Float32Array(6), 2, 3, Int32Array.of(0, 2), null, new Float64Array(2), new Float64Array(2)]);
      const c = caseWith(fn, args);
      return [
        c("a target past the classes", { 3: Int32Array.of(0, 3) }, RangeError, msg(fn, "targets", esc("class indices in [0, 3)"), "targets[1] = 3")),
        c("a negative target that is not ignoreIndex", { 3: Int32Array.of(-1, 0), 4: -100 }, RangeError, msg(fn, "targets", esc("class indices in [0, 3) or ignoreIndex"), "targets[0] = -1")),
        c("logits short", { 0: new Float32Array(5) }, RangeError, msg(fn, "logits", lengthIs(6, "rows * classes"), "length 5")),
        c("targets short", { 3: Int32Array.of(0) }, RangeError, msg(fn, "targets", lengthIs(2, "rows"), "length 1")),
        c("loss short", { 6: new Float64Array(1) }, RangeError, msg(fn, "loss", lengthIs(2, "rows"), "length 1")),
        c("absurd rows x classes", { 0: new Float32Array(0), 1: 2 ** 31, 2: 2 ** 31 }, RangeError, /^crossEntropyForward: /),
        {
          label: "loss over lse",
          call: () => {
            const b = new Float64Array(2);
            return raw[fn](new Float32Array(6), 2, 3, Int32Array.of(0, 2), null, b, b);
          },
          error: RangeError,
          message: msg(fn, "loss", OVERLAP("lse"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "logits", Float32Array, F32],
          [3, "targets", Int32Array, I32],
          [6, "loss", Float64Array, F64],
        ]),
      ];
    },
    valid: () => {
      const lse = new Float64Array(2), loss = new Float64Array(2);
      addon().crossEntropyForward(Float32Array.of(0, 0, 0, 1, 2, 3), 2, 3, Int32Array.of(1, -100), -100, lse, loss);
      assert.ok(Math.abs(loss[0] - Math.log(3)) < 1e-12, `uniform row: ${loss[0]}`);
      assert.equal(loss[1], 0);
    },
  },

  crossEntropyBackward: {
    riskyExtras: true,
    signature: "crossEntropyBackward(logits, rows, classes, targets, ignoreIndex, lse, scale, dx)",
    required: 8,
    params: [
      { name: "logits", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "classes", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      { name: "targets", kind: "typed", expected: I32, valid: () => Int32Array.of(0, 2), wrongTyped: otherTyped(Int32Array, 2) },
      { name: "ignoreIndex", kind: "number", expected: "a number", valid: () => -100, range: [-(2 ** 31), 2 ** 31 - 1], nullable: true },
      { name: "lse", kind: "typed", expected: F64, valid: () => new Float64Array(2), wrongTyped: otherTyped(Float64Array, 2) },
      { name: "scale", kind: "typed", expected: F64, valid: () => new Float64Array(1), wrongTyped: otherTyped(Float64Array, 1) },
      { name: "dx", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "crossEntropyBackward";
      const args = argsOf(() => [new Float32Array(6), 2, 3, Int32Array.of(0, 2), null, new Float64Array(2), Float64Array.of(0.5), new Float32Array(6)]);
      const c = caseWith(fn, args);
      return [
        c("a target past the classes", { 3: Int32Array.of(5, 0) }, RangeError, msg(fn, "targets", esc("class indices in [0, 3)"), "targets[0] = 5")),
        c("scale of another length", { 6: new Float64Array(3) }, RangeError, msg(fn, "scale", esc("of length 1 or 2 (rows)"), "length 3")),
        c("dx short", { 7: new Float32Array(5) }, RangeError, msg(fn, "dx", lengthIs(6, "rows * classes"), "length 5")),
        {
          label: "dx over logits",
          call: () => {
            const x = new Float32Array(6);
            return raw[fn](x, 2, 3, Int32Array.of(0, 2), null, new Float64Array(2), Float64Array.of(1), x);
          },
          error: RangeError,
          message: msg(fn, "dx", OVERLAP("logits"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [5, "lse", Float64Array, F64],
          [7, "dx", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // Uniform logits, lse = log 3: dx = (1/3 - onehot) * scale; the ignored row is zeros.
      const dx = new Float32Array(6).fill(7);
      addon().crossEntropyBackward(new Float32Array(6), 2, 3, Int32Array.of(2, -1), -1, Float64Array.of(Math.log(3), 0), Float64Array.of(0.5), dx);
      assert.deepEqual(Array.from(dx), [Math.fround(1 / 6), Math.fround(1 / 6), Math.fround(Math.fround(1 / 6) - 0.5), 0, 0, 0]);
    },
  },

  rmsNormForward: {
    riskyExtras: true,
    signature: "rmsNormForward(x, w, rows, d, eps, out, rstd)",
    required: 7,
    params: [
      { name: "x", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "w", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3), nullable: true },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "d", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      { name: "eps", kind: "number", expected: "a number", valid: () => 1e-5 },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rstd", kind: "typed", expected: F32, valid: () => new Float32Array(2), wrongTyped: otherTyped(Float32Array, 2) },
    ],
    extra: () => {
      const fn = "rmsNormForward";
      const args = argsOf(() => [new Float32Array(6), new Float32Array(3), 2, 3, 1e-5, new Float32Array(6), new Float32Array(2)]);
      const c = caseWith(fn, args);
      return [
        c("eps zero", { 4: 0 }, RangeError, msg(fn, "eps", "a positive float32 number", "0")),
        c("eps NaN", { 4: NaN }, RangeError, msg(fn, "eps", "a finite number", "NaN")),
        c("w of the wrong length", { 1: new Float32Array(4) }, RangeError, msg(fn, "w", lengthIs(3, "d"), "length 4")),
        c("x short", { 0: new Float32Array(5) }, RangeError, msg(fn, "x", lengthIs(6, "rows * d"), "length 5")),
        c("rstd long", { 6: new Float32Array(3) }, RangeError, msg(fn, "rstd", lengthIs(2, "rows"), "length 3")),
        c("absurd rows", { 2: DIM }, RangeError, msg(fn, "x", lengthIs(DIM * 3, "rows * d"), "length 6")),
        {
          label: "out over x",
          call: () => {
            const x = new Float32Array(6);
            return raw[fn](x, null, 2, 3, 1e-5, x, new Float32Array(2));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("x"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "x", Float32Array, F32],
          [5, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const out = new Float32Array(2);
      const rstd = new Float32Array(1);
      addon().rmsNormForward(Float32Array.of(3, 4), null, 1, 2, 1e-5, out, rstd);
      const s = Math.fround(1 / Math.sqrt(12.5 + 1e-5));
      assert.equal(rstd[0], s);
      assert.deepEqual(Array.from(out), [Math.fround(3 * s), Math.fround(4 * s)]);
    },
  },

  rmsNormBackward: {
    riskyExtras: true,
    signature: "rmsNormBackward(g, x, w, rstd, rows, d, dx, dw)",
    required: 8,
    params: [
      { name: "g", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "x", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "w", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3), nullable: true },
      { name: "rstd", kind: "typed", expected: F32, valid: () => new Float32Array(2), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "d", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      { name: "dx", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6), nullable: true },
      { name: "dw", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3), nullable: true },
    ],
    extra: () => {
      const fn = "rmsNormBackward";
      const args = argsOf(() => [new Float32Array(6), new Float32Array(6), new Float32Array(3), new Float32Array(2), 2, 3, new Float32Array(6), new Float32Array(3)]);
      const c = caseWith(fn, args);
      return [
        c("dw of the wrong length", { 7: new Float32Array(2) }, RangeError, msg(fn, "dw", lengthIs(3, "d"), "length 2")),
        c("g short", { 0: new Float32Array(5) }, RangeError, msg(fn, "g", lengthIs(6, "rows * d"), "length 5")),
        {
          label: "dw over w",
          call: () => {
            const w = new Float32Array(3);
            return raw[fn](new Float32Array(6), new Float32Array(6), w, new Float32Array(2), 2, 3, null, w);
          },
          error: RangeError,
          message: msg(fn, "dw", OVERLAP("w"), "an overlapping view"),
        },
        {
          label: "dx over g",
          call: () => {
            const g = new Float32Array(6);
            return raw[fn](g, new Float32Array(6), null, new Float32Array(2), 2, 3, g, null);
          },
          error: RangeError,
          message: msg(fn, "dx", OVERLAP("g"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "g", Float32Array, F32],
          [7, "dw", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One row [3, 4], g = [1, 0], no weight: dx = s*g - x*s^3*(g.x)/d, dw is not asked for.
      const dx = new Float32Array(2);
      const s = Math.fround(1 / Math.sqrt(12.5 + 1e-5));
      addon().rmsNormBackward(Float32Array.of(1, 0), Float32Array.of(3, 4), null, Float32Array.of(s), 1, 2, dx, null);
      const c = (s * s * s * 3) / 2;
      assert.ok(Math.abs(dx[0] - (s - 3 * c)) < 1e-6 && Math.abs(dx[1] + 4 * c) < 1e-6, `dx ${dx}`);
    },
  },

  softmaxWeights: {
    riskyExtras: true,
    signature: "softmaxWeights(z, max, invTemperature, out)",
    required: 4,
    params: [
      { name: "z", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "max", kind: "number", expected: "a number", valid: () => 0 },
      { name: "invTemperature", kind: "number", expected: "a number", valid: () => 1 },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
    ],
    extra: () => {
      const fn = "softmaxWeights";
      const args = argsOf(() => [new Float32Array(4), 0, 1, new Float32Array(4)]);
      const c = caseWith(fn, args);
      return [
        c("a NaN max", { 1: NaN }, RangeError, msg(fn, "max", "a finite number", "NaN")),
        c("max beyond float32", { 1: 1e39 }, RangeError, msg(fn, "max", "a number within float32 range", "1e+39")),
        c("a zero inverse temperature", { 2: 0 }, RangeError, msg(fn, "invTemperature", "a positive number within float32 range", "0")),
        c("a negative inverse temperature", { 2: -1 }, RangeError, msg(fn, "invTemperature", "a positive number within float32 range", "-1")),
        c("an infinite inverse temperature", { 2: Infinity }, RangeError, msg(fn, "invTemperature", "a finite number", "Infinity")),
        c("out short", { 3: new Float32Array(3) }, RangeError, msg(fn, "out", lengthIs(4, "z.length"), "length 3")),
        {
          label: "out over z",
          call: () => {
            const b = new ArrayBuffer(16);
            return raw[fn](new Float32Array(b), 0, 1, new Float32Array(b));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("z"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "z", Float32Array, F32],
          [3, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // exp((z - max) / T) in float32, within an ulp of the float64 value, across thread chunks.
      const n = 100_000;
      const z = Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 30);
      const out = new Float32Array(n);
      addon().softmaxWeights(z, 30, 1 / 0.7, out);
      for (let i = 0; i < n; i++) {
        const exact = Math.exp(Math.fround(Math.fround(z[i] - 30) * Math.fround(1 / 0.7)));
        assert.ok(Math.abs(out[i] - exact) <= 1.2e-7 * exact + 1e-45, `${i}: ${out[i]} vs ${exact}`);
      }
    },
  },

};
