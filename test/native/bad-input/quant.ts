// Bad-input cases of native/src/binding/quant.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, TWO53, esc, msg, freedView, F32, LIVE, I8, I32, DIM, KMAX, DETACHED, otherTyped, caseWith, detachedCases, absurdSizes, lengthIs, OVERLAP, lcg, refQuantizeActivations, refQuantizeWeights, qaArgs, qwArgs } from "./harness";

export const TABLE: Record<string, Binding> = {
  quantizeActivationsInt8: {
    riskyExtras: true,
    signature: "quantizeActivationsInt8(x, rows, cols, q, scales, sums)",
    required: 6,
    params: [
      { name: "x", kind: "typed", expected: F32, valid: () => qaArgs()[0], wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, KMAX] },
      { name: "q", kind: "typed", expected: I8, valid: () => new Int8Array(512), wrongTyped: otherTyped(Int8Array, 512) },
      { name: "scales", kind: "typed", expected: F32, valid: () => new Float32Array(2), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "sums", kind: "typed", expected: I32, valid: () => new Int32Array(2), wrongTyped: otherTyped(Int32Array, 2) },
    ],
    extra: () => {
      const fn = "quantizeActivationsInt8";
      const c = caseWith(fn, qaArgs);
      const padded = "rows * cols padded to a multiple of 256";
      const nonFinite = (label: string, x: number[], row: number): Case =>
        c(label, { 0: new Float32Array(x) }, RangeError, msg(fn, "x", "finite values", `a NaN or infinity in row ${row}`));
      return [
        ...absurdSizes(fn, qaArgs, 1, "rows", DIM),
        ...absurdSizes(fn, qaArgs, 2, "cols", KMAX),
        // The largest sizes in range: the lengths no array can have are caught before any work.
        c("rows = 2^31", { 1: DIM }, RangeError, msg(fn, "x", lengthIs(DIM * 3, "rows * cols"), "length 6")),
        c("rows = 2^31, cols = 2^22", { 1: DIM, 2: KMAX }, RangeError, msg(fn, "x", lengthIs(TWO53, "rows * cols"), "length 6")),
        c("cols = 2^22", { 2: KMAX }, RangeError, msg(fn, "x", lengthIs(2 * KMAX, "rows * cols"), "length 6")),
        // Length mismatches, each argument in turn.
        c("x one short", { 0: new Float32Array(5) }, RangeError, msg(fn, "x", lengthIs(6, "rows * cols"), "length 5")),
        c("x one long", { 0: new Float32Array(7) }, RangeError, msg(fn, "x", lengthIs(6, "rows * cols"), "length 7")),
        c("x empty", { 0: new Float32Array(0) }, RangeError, msg(fn, "x", lengthIs(6, "rows * cols"), "length 0")),
        c("rows and cols swapped", { 1: 3, 2: 2 }, RangeError, msg(fn, "q", lengthIs(768, padded), "length 512")),
        c("q not padded (rows * cols)", { 3: new Int8Array(6) }, RangeError, msg(fn, "q", lengthIs(512, padded), "length 6")),
        c("q padded for one row only", { 3: new Int8Array(256) }, RangeError, msg(fn, "q", lengthIs(512, padded), "length 256")),
        c("q one long", { 3: new Int8Array(513) }, RangeError, msg(fn, "q", lengthIs(512, padded), "length 513")),
        c("q for cols 0 but rows 2", { 0: new Float32Array(0), 2: 0, 3: new Int8Array(2) }, RangeError, msg(fn, "q", lengthIs(0, padded), "length 2")),
        c("q for cols 257 (two blocks a row)", { 0: new Float32Array(514), 2: 257 }, RangeError, msg(fn, "q", lengthIs(1024, padded), "length 512")),
        c("scales of length 1", { 4: new Float32Array(1) }, RangeError, msg(fn, "scales", lengthIs(2, "rows"), "length 1")),
        c("scales of length 3", { 4: new Float32Array(3) }, RangeError, msg(fn, "scales", lengthIs(2, "rows"), "length 3")),
        c("sums of length 0", { 5: new Int32Array(0) }, RangeError, msg(fn, "sums", lengthIs(2, "rows"), "length 0")),
        c("sums of length 6", { 5: new Int32Array(6) }, RangeError, msg(fn, "sums", lengthIs(2, "rows"), "length 6")),
        // Non-finite inputs: the message names the (first) row.
        nonFinite("NaN in row 0", [NaN, 1, 2, 3, 4, 5], 0),
        nonFinite("NaN in row 1", [0.5, -1, 0.25, 2, NaN, 1], 1),
        nonFinite("Infinity in row 1", [0.5, -1, 0.25, 2, -0.5, Infinity], 1),
        nonFinite("-Infinity in row 0", [-Infinity, -1, 0.25, 2, -0.5, 1], 0),
        nonFinite("NaN in both rows (the first is named)", [1, 1, NaN, NaN, 1, 1], 0),
        c("NaN in row 2 of 3", { 0: new Float32Array([1, 2, 3, 4, 5, 6, 7, NaN, 9]), 1: 3, 3: new Int8Array(768), 4: new Float32Array(3), 5: new Int32Array(3) }, RangeError, msg(fn, "x", "finite values", "a NaN or infinity in row 2")),
        // Outputs sharing memory with the input or with each other.
        {
          label: "q over the same memory as x",
          call: () => {
            const b = new ArrayBuffer(512);
            return raw[fn](new Float32Array(b, 0, 6), 2, 3, new Int8Array(b), new Float32Array(2), new Int32Array(2));
          },
          error: RangeError,
          message: msg(fn, "q", OVERLAP("x"), "an overlapping view"),
        },
        {
          label: "scales inside x",
          call: () => {
            const x = new Float32Array(6);
            return raw[fn](x, 2, 3, new Int8Array(512), x.subarray(4), new Int32Array(2));
          },
          error: RangeError,
          message: msg(fn, "scales", OVERLAP("x"), "an overlapping view"),
        },
        {
          label: "scales at the end of q",
          call: () => {
            const b = new ArrayBuffer(516);
            return raw[fn](new Float32Array(6), 2, 3, new Int8Array(b, 0, 512), new Float32Array(b, 508, 2), new Int32Array(2));
          },
          error: RangeError,
          message: msg(fn, "scales", OVERLAP("q"), "an overlapping view"),
        },
        {
          label: "sums over the same memory as scales",
          call: () => {
            const b = new ArrayBuffer(8);
            return raw[fn](new Float32Array(6), 2, 3, new Int8Array(512), new Float32Array(b), new Int32Array(b));
          },
          error: RangeError,
          message: msg(fn, "sums", OVERLAP("scales"), "an overlapping view"),
        },
        {
          label: "sums overlapping x by one element",
          call: () => {
            const b = new ArrayBuffer(28);
            return raw[fn](new Float32Array(b, 0, 6), 2, 3, new Int8Array(512), new Float32Array(2), new Int32Array(b, 20, 2));
          },
          error: RangeError,
          message: msg(fn, "sums", OVERLAP("x"), "an overlapping view"),
        },
        // Freed memory, each typed-array argument (also when the shape makes it empty).
        ...detachedCases(fn, qaArgs, [
          [0, "x", Float32Array, F32],
          [3, "q", Int8Array, I8],
          [4, "scales", Float32Array, F32],
          [5, "sums", Int32Array, I32],
        ]),
        c("x of a freed buffer, rows 0", { 0: freedView(Float32Array), 1: 0, 3: new Int8Array(0), 4: new Float32Array(0), 5: new Int32Array(0) }, TypeError, msg(fn, "x", F32 + LIVE, `Float32Array(0)${DETACHED}`)),
        c("sums of a freed buffer, rows 0", { 0: new Float32Array(0), 1: 0, 3: new Int8Array(0), 4: new Float32Array(0), 5: freedView(Int32Array) }, TypeError, msg(fn, "sums", I32 + LIVE, `Int32Array(0)${DETACHED}`)),
      ];
    },
    valid: () => {
      // Row 0: max |x| = 1, s = 127: 0.5 * 127 = 63.5 rounds half to even -> 64, 0.25 * 127 = 31.75 -> 32.
      // Row 1: max |x| = 2, s = 63.5: 2 -> 127, -0.5 * 63.5 = -31.75 -> -32, 1 * 63.5 = 63.5 -> 64.
      // Row 2: all zeros, s = 127 / 1e-5.
      const x = new Float32Array([0.5, -1, 0.25, 2, -0.5, 1, 0, 0, 0]);
      const q = new Int8Array(768).fill(7);
      const scales = new Float32Array(3);
      const sums = new Int32Array(3).fill(99);
      addon().quantizeActivationsInt8(x, 3, 3, q, scales, sums);
      assert.deepEqual(Array.from(q.subarray(0, 3)), [64, -127, 32]);
      assert.deepEqual(Array.from(q.subarray(256, 259)), [127, -32, 64]);
      assert.deepEqual(Array.from(q.subarray(512, 515)), [0, 0, 0]);
      for (const r of [0, 1, 2]) assert.ok(q.subarray(r * 256 + 3, r * 256 + 256).every((v) => v === 0), `row ${r} is zero padded to 256`);
      assert.deepEqual(Array.from(scales), [127, 63.5, Math.fround(127 / Math.fround(1e-5))]);
      assert.deepEqual(Array.from(sums), [64 - 127 + 32, 127 - 32 + 64, 0]);
      // A larger input against the float32 reference, one row dominated by a single outlier.
      const r = lcg(7);
      const rows = 5;
      const cols = 300;
      const big = Float32Array.from({ length: rows * cols }, () => (r() - 0.5) * 8);
      big[17] = -1000; // row 0: s = 0.127, the outlier maps to -127 and the rest to -4..4
      const ref = refQuantizeActivations(big, rows, cols);
      const q2 = new Int8Array(rows * 512).fill(-3);
      const s2 = new Float32Array(rows);
      const u2 = new Int32Array(rows);
      addon().quantizeActivationsInt8(big, rows, cols, q2, s2, u2);
      assert.deepEqual(q2, ref.q);
      assert.deepEqual(s2, ref.scales);
      assert.deepEqual(u2, ref.sums);
      // Empty shapes are no-ops.
      addon().quantizeActivationsInt8(new Float32Array(0), 0, 3, new Int8Array(0), new Float32Array(0), new Int32Array(0));
      const s0 = new Float32Array(1);
      const u0 = new Int32Array(1).fill(5);
      addon().quantizeActivationsInt8(new Float32Array(0), 1, 0, new Int8Array(0), s0, u0);
      assert.deepEqual([s0[0], u0[0]], [Math.fround(127 / Math.fround(1e-5)), 0]);
    },
  },

  quantizeWeightsTernary: {
    riskyExtras: true,
    signature: "quantizeWeightsTernary(w, rows, cols, mode, codes, scales)",
    required: 6,
    params: [
      { name: "w", kind: "typed", expected: F32, valid: () => qwArgs()[0], wrongTyped: otherTyped(Float32Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "mode", kind: "string", expected: "a string", valid: () => "channel" },
      { name: "codes", kind: "typed", expected: I8, valid: () => new Int8Array(6), wrongTyped: otherTyped(Int8Array, 6) },
      { name: "scales", kind: "typed", expected: F32, valid: () => new Float32Array(2), wrongTyped: otherTyped(Float32Array, 2) },
    ],
    extra: () => {
      const fn = "quantizeWeightsTernary";
      const c = caseWith(fn, qwArgs);
      const modes = "one of 'tensor', 'channel', 'group128'";
      const nonFinite = (label: string, i: number, v: number): Case => {
        const w = new Float32Array([0.5, -1, 0.25, 0, 2, -0.1]);
        w[i] = v;
        return c(label, { 0: w }, RangeError, msg(fn, "w", "finite values", `a NaN or infinity at element ${i}`));
      };
      return [
        ...["", "Tensor", "CHANNEL", "group", "group64", "group256", "per-channel", "channel ", "row"].map((bad) => c(`mode '${bad}'`, { 3: bad }, RangeError, msg(fn, "mode", modes, `'${bad}'`))),
        ...absurdSizes(fn, qwArgs, 1, "rows", DIM),
        ...absurdSizes(fn, qwArgs, 2, "cols", DIM),
        c("rows = cols = 2^31 (2^62 elements)", { 1: DIM, 2: DIM }, RangeError, msg(fn, "cols", esc(`at most ${2 ** 22} when rows is ${DIM} (rows * cols at most 2^53)`), String(DIM))),
        c("rows = 3, cols = 2^31 (in range)", { 1: 3, 2: DIM }, RangeError, msg(fn, "w", lengthIs(3 * DIM, "rows * cols"), "length 6")),
        c("rows = 2^31, cols = 2^22 (2^53 elements)", { 1: DIM, 2: KMAX }, RangeError, msg(fn, "w", lengthIs(TWO53, "rows * cols"), "length 6")),
        // Length mismatches.
        c("w one short", { 0: new Float32Array(5) }, RangeError, msg(fn, "w", lengthIs(6, "rows * cols"), "length 5")),
        c("w one long", { 0: new Float32Array(7) }, RangeError, msg(fn, "w", lengthIs(6, "rows * cols"), "length 7")),
        c("codes one short", { 4: new Int8Array(5) }, RangeError, msg(fn, "codes", lengthIs(6, "rows * cols"), "length 5")),
        c("codes packed (a quarter)", { 4: new Int8Array(2) }, RangeError, msg(fn, "codes", lengthIs(6, "rows * cols"), "length 2")),
        c("codes one long", { 4: new Int8Array(7) }, RangeError, msg(fn, "codes", lengthIs(6, "rows * cols"), "length 7")),
        c("tensor scales of length 2", { 3: "tensor" }, RangeError, msg(fn, "scales", lengthIs(1, "one scale for the tensor"), "length 2")),
        c("tensor scales of length 0", { 3: "tensor", 5: new Float32Array(0) }, RangeError, msg(fn, "scales", lengthIs(1, "one scale for the tensor"), "length 0")),
        c("tensor scales of length 0 for an empty tensor", { 0: new Float32Array(0), 1: 0, 3: "tensor", 4: new Int8Array(0), 5: new Float32Array(0) }, RangeError, msg(fn, "scales", lengthIs(1, "one scale for the tensor"), "length 0")),
        c("channel scales of length 1", { 5: new Float32Array(1) }, RangeError, msg(fn, "scales", lengthIs(2, "one scale per row"), "length 1")),
        c("channel scales of length 3 (one per column)", { 5: new Float32Array(3) }, RangeError, msg(fn, "scales", lengthIs(2, "one scale per row"), "length 3")),
        c("group128 scales, one per row of 3 columns", { 3: "group128", 5: new Float32Array(1) }, RangeError, msg(fn, "scales", lengthIs(2, "one scale per 128-weight group of each row"), "length 1")),
        c("group128 scales, 2 x 300 needs 6", { 0: new Float32Array(600), 2: 300, 3: "group128", 4: new Int8Array(600) }, RangeError, msg(fn, "scales", lengthIs(6, "one scale per 128-weight group of each row"), "length 2")),
        c("group128 scales for rows 0", { 0: new Float32Array(0), 1: 0, 3: "group128", 4: new Int8Array(0) }, RangeError, msg(fn, "scales", lengthIs(0, "one scale per 128-weight group of each row"), "length 2")),
        // Non-finite weights: the message names the element.
        nonFinite("NaN at element 0", 0, NaN),
        nonFinite("NaN at element 4", 4, NaN),
        nonFinite("Infinity at element 5", 5, Infinity),
        nonFinite("-Infinity at element 2", 2, -Infinity),
        c("NaN in tensor mode", { 0: new Float32Array([1, 2, 3, NaN, 5, 6]), 3: "tensor", 5: new Float32Array(1) }, RangeError, msg(fn, "w", "finite values", "a NaN or infinity at element 3")),
        c("Infinity in group128 mode", { 0: new Float32Array(6).fill(1).fill(Infinity, 1), 3: "group128" }, RangeError, msg(fn, "w", "finite values", "a NaN or infinity at element 1")),
        // Outputs sharing memory with the input or with each other.
        {
          label: "codes over the same memory as w",
          call: () => {
            const w = new Float32Array([0.5, -1, 0.25, 0, 2, -0.1]);
            return raw[fn](w, 2, 3, "channel", new Int8Array(w.buffer, 0, 6), new Float32Array(2));
          },
          error: RangeError,
          message: msg(fn, "codes", OVERLAP("w"), "an overlapping view"),
        },
        {
          label: "scales inside w",
          call: () => {
            const w = new Float32Array([0.5, -1, 0.25, 0, 2, -0.1]);
            return raw[fn](w, 2, 3, "channel", new Int8Array(6), w.subarray(1, 3));
          },
          error: RangeError,
          message: msg(fn, "scales", OVERLAP("w"), "an overlapping view"),
        },
        {
          label: "scales over the end of codes",
          call: () => {
            const b = new ArrayBuffer(12);
            return raw[fn](new Float32Array(6), 2, 3, "channel", new Int8Array(b, 0, 6), new Float32Array(b, 4, 2));
          },
          error: RangeError,
          message: msg(fn, "scales", OVERLAP("codes"), "an overlapping view"),
        },
        ...detachedCases(fn, qwArgs, [
          [0, "w", Float32Array, F32],
          [4, "codes", Int8Array, I8],
          [5, "scales", Float32Array, F32],
        ]),
        c("w of a freed buffer, empty tensor", { 0: freedView(Float32Array), 1: 0, 3: "tensor", 4: new Int8Array(0), 5: new Float32Array(1) }, TypeError, msg(fn, "w", F32 + LIVE, `Float32Array(0)${DETACHED}`)),
      ];
    },
    valid: () => {
      const w = new Float32Array([0.5, -1, 0.25, 0, 2, -0.1]);
      // Tensor: s = mean|w| = 3.85 / 6 ~ 0.6417; w / s = 0.78, -1.56, 0.39, 0, 3.1, -0.16.
      const codes = new Int8Array(6).fill(9);
      const scale = new Float32Array(1);
      addon().quantizeWeightsTernary(w, 2, 3, "tensor", codes, scale);
      assert.deepEqual(Array.from(codes), [1, -1, 0, 0, 1, 0]);
      assert.equal(scale[0], Math.fround((0.5 + 1 + 0.25 + 0 + 2 + Math.fround(0.1)) / 6));
      // Channel: row 0 s = 1.75 / 3, row 1 s = 2.1 / 3 = 0.7; -0.1 / 0.7 = -0.14 -> 0.
      const scales = new Float32Array(2);
      addon().quantizeWeightsTernary(w, 2, 3, "channel", codes, scales);
      assert.deepEqual(Array.from(codes), [1, -1, 0, 0, 1, 0]);
      assert.deepEqual(Array.from(scales), [Math.fround(1.75 / 3), Math.fround((2 + Math.fround(0.1)) / 3)]);
      // An all-zero tensor takes the 1e-5 floor.
      addon().quantizeWeightsTernary(new Float32Array(4), 2, 2, "tensor", codes.subarray(0, 4), scale);
      assert.equal(scale[0], Math.fround(1e-5));
      assert.deepEqual(Array.from(codes.subarray(0, 4)), [0, 0, 0, 0]);
      // Every mode against the reference on a larger matrix (partial last group of 44).
      const r = lcg(11);
      const big = Float32Array.from({ length: 3 * 300 }, () => (r() - 0.5) * 0.2);
      for (const mode of ["tensor", "channel", "group128"] as const) {
        const ref = refQuantizeWeights(big, 3, 300, mode);
        const c2 = new Int8Array(900);
        const s2 = new Float32Array(ref.scales.length);
        addon().quantizeWeightsTernary(big, 3, 300, mode, c2, s2);
        assert.deepEqual(c2, ref.codes, `codes, mode ${mode}`);
        assert.deepEqual(s2, ref.scales, `scales, mode ${mode}`);
        assert.ok(c2.some((v) => v === 1) && c2.some((v) => v === -1) && c2.some((v) => v === 0));
      }
    },
  },

};
