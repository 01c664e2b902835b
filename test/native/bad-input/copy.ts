// Bad-input cases of native/src/binding/copy.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, ErrorClass, Case, raw, TWO53, TWO40, esc, msg, freedView, ANY_TYPED, LIVE, copyArgs } from "./harness";

export const TABLE: Record<string, Binding> = {
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

};
