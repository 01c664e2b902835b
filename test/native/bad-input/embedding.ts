// Bad-input cases of native/src/binding/embedding.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, DIM, F32, I32, OVERLAP, argsOf, caseWith, detachedCases, lengthIs, msg, otherTyped, raw } from "./harness";

export const TABLE: Record<string, Binding> = {
  embeddingForward: {
    riskyExtras: true,
    signature: "embeddingForward(weight, rows, cols, ids, out)",
    required: 5,
    params: [
      { name: "weight", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "ids", kind: "typed", expected: I32, valid: () => Int32Array.of(2, 0), wrongTyped: otherTyped(Int32Array, 2) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
    ],
    extra: () => {
      const fn = "embeddingForward";
      const args = argsOf(() => [new Float32Array(6), 3, 2, Int32Array.of(2, 0), new Float32Array(4)]);
      const c = caseWith(fn, args);
      return [
        c("an id past the rows", { 3: Int32Array.of(0, 3) }, RangeError, msg(fn, "ids", "rows of the weight, in \\[0, 3\\)", "ids[1] = 3")),
        c("a negative id", { 3: Int32Array.of(-1), 4: new Float32Array(2) }, RangeError, msg(fn, "ids", "rows of the weight, in \\[0, 3\\)", "ids[0] = -1")),
        c("weight short", { 0: new Float32Array(5) }, RangeError, msg(fn, "weight", lengthIs(6, "rows * cols"), "length 5")),
        c("out short", { 4: new Float32Array(3) }, RangeError, msg(fn, "out", lengthIs(4, "ids.length * cols"), "length 3")),
        {
          label: "out over weight",
          call: () => {
            const b = new ArrayBuffer(64);
            return raw[fn](new Float32Array(b, 0, 6), 3, 2, Int32Array.of(0, 1), new Float32Array(b, 8, 4));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("weight"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "weight", Float32Array, F32],
          [3, "ids", Int32Array, I32],
          [4, "out", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const out = new Float32Array(4);
      addon().embeddingForward(Float32Array.of(1, 2, 3, 4, 5, 6), 3, 2, Int32Array.of(2, 0), out);
      assert.deepEqual(Array.from(out), [5, 6, 1, 2]);
    },
  },

  embeddingBackward: {
    riskyExtras: true,
    signature: "embeddingBackward(grad, ids, rows, cols, dweight)",
    required: 5,
    params: [
      { name: "grad", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "ids", kind: "typed", expected: I32, valid: () => Int32Array.of(2, 0), wrongTyped: otherTyped(Int32Array, 2) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "dweight", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "embeddingBackward";
      const args = argsOf(() => [new Float32Array(4), Int32Array.of(2, 0), 3, 2, new Float32Array(6)]);
      const c = caseWith(fn, args);
      return [
        c("an id past the rows", { 1: Int32Array.of(5, 0) }, RangeError, msg(fn, "ids", "rows of the weight, in \\[0, 3\\)", "ids[0] = 5")),
        c("grad short", { 0: new Float32Array(3) }, RangeError, msg(fn, "grad", lengthIs(4, "ids.length * cols"), "length 3")),
        c("dweight short", { 4: new Float32Array(5) }, RangeError, msg(fn, "dweight", lengthIs(6, "rows * cols"), "length 5")),
        {
          label: "dweight over grad",
          call: () => {
            const b = new ArrayBuffer(64);
            return raw[fn](new Float32Array(b, 0, 4), Int32Array.of(0, 1), 3, 2, new Float32Array(b, 8, 6));
          },
          error: RangeError,
          message: msg(fn, "dweight", OVERLAP("grad"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "grad", Float32Array, F32],
          [1, "ids", Int32Array, I32],
          [4, "dweight", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      const dw = Float32Array.of(1, 1, 1, 1, 1, 1);
      addon().embeddingBackward(Float32Array.of(1, 2, 3, 4, 5, 6), Int32Array.of(2, 0, 2), 3, 2, dw);
      assert.deepEqual(Array.from(dw), [4, 5, 1, 1, 7, 9]);
    },
  },
};
