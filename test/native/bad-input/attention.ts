// Bad-input cases of native/src/binding/attention.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, TWO53, TWO40, esc, msg, num, F32, DIM, otherTyped, argsOf, caseWith, detachedCases, lengthIs, OVERLAP } from "./harness";

export const TABLE: Record<string, Binding> = {
  attentionDecode: {
    riskyExtras: true,
    signature: "attentionDecode(q, k, v, kvLen, qHeads, kvHeads, headDim, scale, out)",
    required: 9,
    params: [
      { name: "q", kind: "typed", expected: F32, valid: () => new Float32Array(4 * 2), wrongTyped: otherTyped(Float32Array, 8) },
      { name: "k", kind: "typed", expected: "a Float32Array or Uint16Array", valid: () => new Float32Array(3 * 2 * 2), wrongTyped: [new Int8Array(12), new Float64Array(12), new Int32Array(12)] },
      { name: "v", kind: "typed", expected: F32, valid: () => new Float32Array(3 * 2 * 2), wrongTyped: [new Uint16Array(12), new Float64Array(12)] },
      { name: "kvLen", kind: "number", expected: "a number", valid: () => 3, range: [1, 2 ** 24] },
      { name: "qHeads", kind: "number", expected: "a number", valid: () => 4, range: [1, 2 ** 16] },
      { name: "kvHeads", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "headDim", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "scale", kind: "number", expected: "a number", valid: () => 0.5 },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(8), wrongTyped: otherTyped(Float32Array, 8) },
    ],
    extra: () => {
      const fn = "attentionDecode";
      const args = argsOf(() => [new Float32Array(8), new Float32Array(12), new Float32Array(12), 3, 4, 2, 2, 0.5, new Float32Array(8)]);
      const c = caseWith(fn, args);
      return [
        ...[2 ** 24 + 1, TWO40, TWO53, 2 ** 64, 1.5, Number.MAX_VALUE].map((v) => c(`kvLen = ${num(v)}`, { 3: v }, RangeError, msg(fn, "kvLen", esc(`an integer in [1, ${2 ** 24}]`), num(v)))),
        c("kvLen 0", { 3: 0 }, RangeError, msg(fn, "kvLen", esc(`an integer in [1, ${2 ** 24}]`), "0")),
        c("qHeads not a multiple of kvHeads", { 4: 3 }, RangeError, msg(fn, "qHeads", esc("a multiple of kvHeads (2)"), "3")),
        c("a NaN scale", { 7: NaN }, RangeError, msg(fn, "scale", "a finite number", "NaN")),
        c("k one short", { 1: new Float32Array(11) }, RangeError, msg(fn, "k", lengthIs(12, "kvLen * kvHeads * headDim"), "length 11")),
        c("v longer than the cache in use", { 2: new Float32Array(16) }, RangeError, msg(fn, "v", lengthIs(12, "kvLen * kvHeads * headDim"), "length 16")),
        c("q for another head count", { 0: new Float32Array(6) }, RangeError, msg(fn, "q", lengthIs(8, "qHeads * headDim"), "length 6")),
        c("out short", { 8: new Float32Array(7) }, RangeError, msg(fn, "out", lengthIs(8, "qHeads * headDim"), "length 7")),
        c("f16 keys with f32 values", { 1: new Uint16Array(12) }, TypeError, msg(fn, "v", "a Uint16Array", "Float32Array(12)")),
        {
          label: "out over k",
          call: () => {
            const b = new ArrayBuffer(64);
            return raw[fn](new Float32Array(8), new Float32Array(b, 0, 12), new Float32Array(12), 3, 4, 2, 2, 0.5, new Float32Array(b, 0, 8));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("k"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "q", Float32Array, F32],
          [1, "k", Float32Array, "a Float32Array or Uint16Array"],
          [8, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One head, two keys: softmax of the scaled scores, then the weighted values.
      const out = new Float32Array(2);
      addon().attentionDecode(Float32Array.of(1, 0), Float32Array.of(1, 0, 0, 1), Float32Array.of(2, 0, 0, 4), 2, 1, 1, 2, 1, out);
      const p = 1 / (1 + Math.exp(-1));
      assert.ok(Math.abs(out[0] - 2 * p) < 1e-6 && Math.abs(out[1] - 4 * (1 - p)) < 1e-6, `${Array.from(out)}`);
    },
  },

  attentionForward: {
    riskyExtras: true,
    signature: "attentionForward(q, k, v, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, out, lse)",
    required: 12,
    params: [
      { name: "q", kind: "typed", expected: F32, valid: () => new Float32Array(2 * 3 * 4 * 2), wrongTyped: otherTyped(Float32Array, 48) },
      { name: "k", kind: "typed", expected: F32, valid: () => new Float32Array(2 * 3 * 2 * 2), wrongTyped: otherTyped(Float32Array, 24) },
      { name: "v", kind: "typed", expected: F32, valid: () => new Float32Array(2 * 3 * 2 * 2), wrongTyped: otherTyped(Float32Array, 24) },
      { name: "batch", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "qLen", kind: "number", expected: "a number", valid: () => 3, range: [0, 2 ** 24] },
      { name: "kvLen", kind: "number", expected: "a number", valid: () => 3, range: [0, 2 ** 24] },
      { name: "qHeads", kind: "number", expected: "a number", valid: () => 4, range: [1, 2 ** 16] },
      { name: "kvHeads", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "headDim", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "scale", kind: "number", expected: "a number", valid: () => 0.5 },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(48), wrongTyped: otherTyped(Float32Array, 48) },
      { name: "lse", kind: "typed", expected: F32, valid: () => new Float32Array(2 * 4 * 3), wrongTyped: otherTyped(Float32Array, 24) },
    ],
    extra: () => {
      const fn = "attentionForward";
      const args = argsOf(() => [new Float32Array(48), new Float32Array(24), new Float32Array(24), 2, 3, 3, 4, 2, 2, 0.5, new Float32Array(48), new Float32Array(24)]);
      const c = caseWith(fn, args);
      return [
        c("kvLen below qLen", { 5: 2 }, RangeError, msg(fn, "kvLen", esc("at least qLen (3): queries attend to the last qLen of kvLen positions"), "2")),
        c("qHeads not a multiple of kvHeads", { 6: 3 }, RangeError, msg(fn, "qHeads", esc("a multiple of kvHeads (2)"), "3")),
        c("scale NaN", { 9: NaN }, RangeError, msg(fn, "scale", "a finite number", "NaN")),
        c("scale beyond float32", { 9: -1e39 }, RangeError, msg(fn, "scale", "a number within float32 range", "-1e+39")),
        c("q short", { 0: new Float32Array(47) }, RangeError, msg(fn, "q", lengthIs(48, "batch * qLen * qHeads * headDim"), "length 47")),
        c("k long", { 1: new Float32Array(25) }, RangeError, msg(fn, "k", lengthIs(24, "batch * kvLen * kvHeads * headDim"), "length 25")),
        c("lse short", { 11: new Float32Array(23) }, RangeError, msg(fn, "lse", lengthIs(24, "batch * qHeads * qLen"), "length 23")),
        c("absurd batch with small arrays", { 3: DIM }, RangeError, msg(fn, "q", lengthIs(DIM * 24, "batch * qLen * qHeads * headDim"), "length 48")),
        {
          label: "out overlapping q",
          call: () => {
            const buf = new Float32Array(96);
            return raw[fn](buf.subarray(0, 48), new Float32Array(24), new Float32Array(24), 2, 3, 3, 4, 2, 2, 0.5, buf.subarray(40, 88), new Float32Array(24));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("q"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "q", Float32Array, F32],
          [10, "out", Float32Array, F32],
          [11, "lse", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One query position and one key: the output is v, the log-sum-exp is the single score.
      const out = new Float32Array(2).fill(NaN);
      const lse = new Float32Array(1);
      addon().attentionForward(Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6), 1, 1, 1, 1, 1, 2, 0.5, out, lse);
      assert.deepEqual(Array.from(out), [5, 6]);
      assert.equal(lse[0], 0.5 * (3 + 8));
    },
  },

  attentionBackward: {
    riskyExtras: true,
    signature: "attentionBackward(q, k, v, out, lse, dout, batch, qLen, kvLen, qHeads, kvHeads, headDim, scale, dq, dk, dv)",
    required: 16,
    params: [
      { name: "q", kind: "typed", expected: F32, valid: () => new Float32Array(12), wrongTyped: otherTyped(Float32Array, 12) },
      { name: "k", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "v", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(12), wrongTyped: otherTyped(Float32Array, 12) },
      { name: "lse", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "dout", kind: "typed", expected: F32, valid: () => new Float32Array(12), wrongTyped: otherTyped(Float32Array, 12) },
      { name: "batch", kind: "number", expected: "a number", valid: () => 1, range: [0, DIM] },
      { name: "qLen", kind: "number", expected: "a number", valid: () => 3, range: [0, 2 ** 24] },
      { name: "kvLen", kind: "number", expected: "a number", valid: () => 3, range: [0, 2 ** 24] },
      { name: "qHeads", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "kvHeads", kind: "number", expected: "a number", valid: () => 1, range: [1, 2 ** 16] },
      { name: "headDim", kind: "number", expected: "a number", valid: () => 2, range: [1, 2 ** 16] },
      { name: "scale", kind: "number", expected: "a number", valid: () => 1 },
      { name: "dq", kind: "typed", expected: F32, valid: () => new Float32Array(12), wrongTyped: otherTyped(Float32Array, 12) },
      { name: "dk", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "dv", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "attentionBackward";
      const args = argsOf(() => [12, 6, 6, 12, 6, 12].map((n) => new Float32Array(n) as unknown).concat([1, 3, 3, 2, 1, 2, 1, new Float32Array(12), new Float32Array(6), new Float32Array(6)]));
      const c = caseWith(fn, args);
      return [
        c("dout short", { 5: new Float32Array(11) }, RangeError, msg(fn, "dout", lengthIs(12, "batch * qLen * qHeads * headDim"), "length 11")),
        c("dv long", { 15: new Float32Array(7) }, RangeError, msg(fn, "dv", lengthIs(6, "batch * kvLen * kvHeads * headDim"), "length 7")),
        c("kvHeads not dividing qHeads", { 10: 2, 9: 3 }, RangeError, msg(fn, "qHeads", esc("a multiple of kvHeads (2)"), "3")),
        {
          label: "dk overlapping dq",
          call: () => {
            const buf = new Float32Array(18);
            const a = args();
            a[13] = buf.subarray(0, 12);
            a[14] = buf.subarray(8, 14);
            return raw[fn](...a);
          },
          error: RangeError,
          message: msg(fn, "dk", OVERLAP("dq"), "an overlapping view"),
        },
        {
          label: "dv overlapping dout",
          call: () => {
            const buf = new Float32Array(14);
            const a = args();
            a[5] = buf.subarray(0, 12);
            a[15] = buf.subarray(8, 14);
            return raw[fn](...a);
          },
          error: RangeError,
          message: msg(fn, "dv", OVERLAP("dout"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [5, "dout", Float32Array, F32],
          [13, "dq", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // One position: p = 1, so dv = dout, and dq = dk = 0 (the softmax of one score is constant).
      const dq = new Float32Array(2).fill(NaN), dk = new Float32Array(2).fill(NaN), dv = new Float32Array(2).fill(NaN);
      addon().attentionBackward(Float32Array.of(1, 2), Float32Array.of(3, 4), Float32Array.of(5, 6), Float32Array.of(5, 6), Float32Array.of(5.5), Float32Array.of(7, 8), 1, 1, 1, 1, 1, 2, 0.5, dq, dk, dv);
      assert.deepEqual(Array.from(dv), [7, 8]);
      assert.deepEqual(Array.from(dq), [0, 0]);
      assert.deepEqual(Array.from(dk), [0, 0]);
    },
  },

};
