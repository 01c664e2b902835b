// Bad-input cases of native/src/binding/ternary.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, TWO53, esc, msg, num, freedView, F32, LIVE, info, I8, U8, I32, DIM, KMAX, DETACHED, otherTyped, argsOf, caseWith, detachedCases, absurdSizes, lengthIs, OVERLAP, lcg, packedBytes, ternaryWeights, mmArgs } from "./harness";

export const TABLE: Record<string, Binding> = {
  ternaryMatmulGroup: {
    riskyExtras: true,
    signature: "ternaryMatmulGroup(xq, rows, cols, xScale, xSum, w0, outFeatures0, wScale0, out0, w1, outFeatures1, wScale1, out1, w2, outFeatures2, wScale2, out2)",
    required: 17,
    params: [
      { name: "xq", kind: "typed", expected: I8, valid: () => new Int8Array(256), wrongTyped: otherTyped(Int8Array, 256) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 1, range: [1, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [1, KMAX] },
      { name: "xScale", kind: "typed", expected: F32, valid: () => new Float32Array([1]), wrongTyped: otherTyped(Float32Array, 1) },
      { name: "xSum", kind: "typed", expected: I32, valid: () => new Int32Array(1), wrongTyped: otherTyped(Int32Array, 1) },
      { name: "w0", kind: "typed", expected: U8, valid: () => new Uint8Array(256).fill(0x55), wrongTyped: otherTyped(Uint8Array, 256) },
      { name: "outFeatures0", kind: "number", expected: "a number", valid: () => 4, range: [1, DIM] },
      { name: "wScale0", kind: "typed", expected: F32, valid: () => new Float32Array([1]), wrongTyped: otherTyped(Float32Array, 1) },
      { name: "out0", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: otherTyped(Float32Array, 4) },
      { name: "w1", kind: "typed", expected: U8, valid: () => new Uint8Array(256).fill(0x55), wrongTyped: otherTyped(Uint8Array, 256) },
      { name: "outFeatures1", kind: "number", expected: "a number", valid: () => 2, range: [1, DIM] },
      { name: "wScale1", kind: "typed", expected: F32, valid: () => new Float32Array([1]), wrongTyped: otherTyped(Float32Array, 1) },
      { name: "out1", kind: "typed", expected: F32, valid: () => new Float32Array(2), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "w2", kind: "typed", expected: U8, valid: () => new Uint8Array(256).fill(0x55), wrongTyped: otherTyped(Uint8Array, 256) },
      { name: "outFeatures2", kind: "number", expected: "a number", valid: () => 3, range: [1, DIM] },
      { name: "wScale2", kind: "typed", expected: F32, valid: () => new Float32Array([1]), wrongTyped: otherTyped(Float32Array, 1) },
      { name: "out2", kind: "typed", expected: F32, valid: () => new Float32Array(3), wrongTyped: otherTyped(Float32Array, 3) },
    ],
    extra: () => {
      const fn = "ternaryMatmulGroup";
      const w = () => new Uint8Array(256).fill(0x55);
      const args = argsOf(() => [new Int8Array(256), 1, 3, new Float32Array([1]), new Int32Array(1), w(), 4, new Float32Array([1]), new Float32Array(4), w(), 2, new Float32Array([1]), new Float32Array(2), w(), 3, new Float32Array([1]), new Float32Array(3)]);
      const c = caseWith(fn, args);
      const wLen = "outFeatures padded to a multiple of 4 * padded cols / 4: tl256 layout";
      return [
        c("a third operand without w2", { 13: null }, TypeError, msg(fn, "w2", U8, "null")),
        c("outFeatures2 without a third operand", { 13: null, 15: null, 16: null, 14: 3 }, RangeError, msg(fn, "outFeatures2", esc("an integer in [0, 0]"), "3")),
        c("w1 for another row count", { 10: 8 }, RangeError, msg(fn, "w1", lengthIs(512, wLen), "length 256")),
        c("out0 short", { 8: new Float32Array(3) }, RangeError, msg(fn, "out0", lengthIs(4, "rows * outFeatures0"), "length 3")),
        c("wScale2 of the wrong length", { 15: new Float32Array(2) }, RangeError, msg(fn, "wScale2", esc("of length 1 or 3 (outFeatures2)"), "length 2")),
        c("a zero wScale1", { 11: Float32Array.of(0) }, RangeError, msg(fn, "wScale1", "finite positive scales", "wScale1[0] = 0")),
        c("xSum not the row sum", { 4: Int32Array.of(5) }, RangeError, msg(fn, "xSum", "the row sums of xq", "xSum[0] = 5 (row 0 of xq sums to 0)")),
        {
          label: "out1 over out0",
          call: () => {
            const b = new ArrayBuffer(64);
            return raw[fn](...args({ 8: new Float32Array(b, 0, 4), 12: new Float32Array(b, 8, 2) }));
          },
          error: RangeError,
          message: msg(fn, "out1", OVERLAP("out0"), "an overlapping view"),
        },
        {
          label: "out2 over w0",
          call: () => {
            const b = new ArrayBuffer(512);
            const a = args();
            a[5] = new Uint8Array(b, 0, 256).fill(0x55);
            a[16] = new Float32Array(b, 0, 3);
            return raw[fn](...a);
          },
          error: RangeError,
          message: msg(fn, "out2", OVERLAP("w0"), "an overlapping view"),
        },
        ...detachedCases(fn, args, [
          [0, "xq", Int8Array, I8],
          [5, "w0", Uint8Array, U8],
          [12, "out1", Float32Array, F32],
        ]),
      ];
    },
    valid: () => {
      // Three operands against the single-matrix call, in every ISA variant: one row and two
      // (GEMV passes), 7 and 20 (panels on AVX2/AVX-VNNI/NEON; AVX-512's GEMV and short-M paths).
      const isaBefore = addon().getIsa();
      try {
      for (const isa of info.isa.supported) for (const m of [1, 2, 7, 20]) {
        addon().setIsa(isa);
        const k = 300, kp = 512;
        const xq = new Int8Array(m * kp);
        for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) xq[i * kp + j] = ((i * 31 + j * 7) % 255) - 127;
        const sums = Int32Array.from({ length: m }, (_, i) => xq.subarray(i * kp, i * kp + kp).reduce((a, b) => a + b, 0));
        const xs = Float32Array.from({ length: m }, (_, i) => 10 + i);
        const ns = [20, 37, 4];
        const packed = ns.map((n, o) => {
          const codes = Int8Array.from({ length: n * k }, (_, i) => ((i * (o + 3)) % 3) - 1);
          const out = new Uint8Array(Math.ceil(n / 4) * 4 * (kp / 4));
          addon().packTernary(codes, n, k, "tl256", out);
          return out;
        });
        const scales = [Float32Array.of(0.5), Float32Array.from({ length: 37 }, (_, i) => 0.1 + i / 100), Float32Array.of(2)];
        const grouped = ns.map((n) => new Float32Array(m * n));
        addon().ternaryMatmulGroup(xq, m, k, xs, sums, packed[0], ns[0], scales[0], grouped[0], packed[1], ns[1], scales[1], grouped[1], packed[2], ns[2], scales[2], grouped[2]);
        ns.forEach((n, o) => {
          const single = new Float32Array(m * n);
          addon().ternaryMatmul(xq, m, k, xs, sums, packed[o], n, scales[o], single);
          assert.deepEqual(grouped[o], single, `${isa}: operand ${o}, ${m} rows`);
        });
        // Two operands: the third slots null and 0.
        const two = ns.slice(0, 2).map((n) => new Float32Array(m * n));
        addon().ternaryMatmulGroup(xq, m, k, xs, sums, packed[0], ns[0], scales[0], two[0], packed[1], ns[1], scales[1], two[1], null, 0, null, null);
        assert.deepEqual(two, grouped.slice(0, 2));
      }
      } finally {
        addon().setIsa(isaBefore);
      }
    },
  },

  ternaryMatmul: {
    riskyExtras: true,
    signature: "ternaryMatmul(xq, rows, cols, xScale, xSum, w, outFeatures, wScale, out)",
    required: 9,
    params: [
      { name: "xq", kind: "typed", expected: I8, valid: () => mmArgs()[0], wrongTyped: otherTyped(Int8Array, 512) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, KMAX] },
      { name: "xScale", kind: "typed", expected: F32, valid: () => new Float32Array([1, 1]), wrongTyped: otherTyped(Float32Array, 2) },
      { name: "xSum", kind: "typed", expected: I32, valid: () => new Int32Array(2), wrongTyped: otherTyped(Int32Array, 2) },
      { name: "w", kind: "typed", expected: U8, valid: () => new Uint8Array(256).fill(0x55), wrongTyped: otherTyped(Uint8Array, 256) },
      { name: "outFeatures", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "wScale", kind: "typed", expected: F32, valid: () => new Float32Array([1]), wrongTyped: otherTyped(Float32Array, 1) },
      { name: "out", kind: "typed", expected: F32, valid: () => new Float32Array(6), wrongTyped: otherTyped(Float32Array, 6) },
    ],
    extra: () => {
      const fn = "ternaryMatmul";
      const c = caseWith(fn, mmArgs);
      const padded = "rows * cols padded to a multiple of 256";
      const wLen = "outFeatures padded to a multiple of 4 * padded cols / 4: tl256 layout";
      const wsLen = (n: number): string => (n === 1 ? lengthIs(1, "outFeatures") : `of length 1 \\(one scale for all rows of w\\) or ${n} \\(outFeatures\\)`);
      const scale = (name: string, i: number, arr: Float32Array, v: number, got: string): Case => {
        arr[i] = v;
        return c(`${name}[${i}] = ${got}`, { [name === "xScale" ? 3 : 7]: arr }, RangeError, msg(fn, name, "finite positive scales", `${name}[${i}] = ${got}`));
      };
      const cases: Case[] = [
        ...absurdSizes(fn, mmArgs, 1, "rows", DIM),
        ...absurdSizes(fn, mmArgs, 2, "cols", KMAX),
        ...absurdSizes(fn, mmArgs, 6, "outFeatures", DIM),
        c("rows = outFeatures = 2^31 (2^62 outputs)", { 1: DIM, 6: DIM }, RangeError, msg(fn, "outFeatures", esc(`at most ${2 ** 22} when rows is ${DIM} (rows * outFeatures at most 2^53)`), String(DIM))),
        c("rows = 2^31, cols = 2^22", { 1: DIM, 2: KMAX }, RangeError, msg(fn, "xq", lengthIs(TWO53, padded), "length 512")),
        c("outFeatures = 2^31, cols = 2^22", { 2: KMAX, 6: DIM, 0: new Int8Array(2 * 256) }, RangeError, msg(fn, "xq", lengthIs(2 * KMAX, padded), "length 512")),
        c("outFeatures = 2^31", { 6: DIM }, RangeError, msg(fn, "w", lengthIs(DIM * 64, wLen), "length 256")),
        // Length mismatches, each argument.
        c("xq not padded (rows * cols)", { 0: new Int8Array(6) }, RangeError, msg(fn, "xq", lengthIs(512, padded), "length 6")),
        c("xq one long", { 0: new Int8Array(513) }, RangeError, msg(fn, "xq", lengthIs(512, padded), "length 513")),
        c("xq for one row", { 0: new Int8Array(256) }, RangeError, msg(fn, "xq", lengthIs(512, padded), "length 256")),
        c("xScale of length 1", { 3: new Float32Array([1]) }, RangeError, msg(fn, "xScale", lengthIs(2, "rows"), "length 1")),
        c("xScale of length 3", { 3: new Float32Array([1, 1, 1]) }, RangeError, msg(fn, "xScale", lengthIs(2, "rows"), "length 3")),
        c("xSum of length 0", { 4: new Int32Array(0) }, RangeError, msg(fn, "xSum", lengthIs(2, "rows"), "length 0")),
        c("xSum of length 3", { 4: new Int32Array(3) }, RangeError, msg(fn, "xSum", lengthIs(2, "rows"), "length 3")),
        // w of 3 x 3: outFeatures padded to a group of 4, each one block of 64 bytes: 256 bytes.
        c("w unpadded (outFeatures * cols / 4)", { 5: new Uint8Array(3) }, RangeError, msg(fn, "w", lengthIs(256, wLen), "length 3")),
        c("w unpacked (one byte a weight)", { 5: new Uint8Array(9) }, RangeError, msg(fn, "w", lengthIs(256, wLen), "length 9")),
        c("w one long", { 5: new Uint8Array(257) }, RangeError, msg(fn, "w", lengthIs(256, wLen), "length 257")),
        c("w one short", { 5: new Uint8Array(255) }, RangeError, msg(fn, "w", lengthIs(256, wLen), "length 255")),
        c("w for cols 257 is two blocks a row", { 0: new Int8Array(1024), 2: 257 }, RangeError, msg(fn, "w", lengthIs(512, wLen), "length 256")),
        // The size before rows were grouped (outFeatures * Kp / 4) is refused: outFeatures is padded to a multiple of 4.
        c("w in the ungrouped size (outFeatures 3 * 64)", { 5: new Uint8Array(192).fill(0x55) }, RangeError, msg(fn, "w", lengthIs(256, wLen), "length 192")),
        c("w in the ungrouped size (outFeatures 5, cols 300: 5 * 128)", { 0: new Int8Array(1024), 2: 300, 5: new Uint8Array(640).fill(0x55), 6: 5, 8: new Float32Array(10) }, RangeError, msg(fn, "w", lengthIs(1024, wLen), "length 640")),
        c("wScale of length 2 (neither 1 nor outFeatures)", { 7: new Float32Array([1, 1]) }, RangeError, msg(fn, "wScale", wsLen(3), "length 2")),
        c("wScale of length 4", { 7: new Float32Array(4).fill(1) }, RangeError, msg(fn, "wScale", wsLen(3), "length 4")),
        c("wScale of length 0", { 7: new Float32Array(0) }, RangeError, msg(fn, "wScale", wsLen(3), "length 0")),
        c("wScale of length 2, outFeatures 1", { 5: new Uint8Array(256).fill(0x55), 6: 1, 7: new Float32Array([1, 1]), 8: new Float32Array(2) }, RangeError, msg(fn, "wScale", wsLen(1), "length 2")),
        c("wScale of length rows (2), not outFeatures", { 6: 3, 7: new Float32Array([1, 1]) }, RangeError, msg(fn, "wScale", wsLen(3), "length 2")),
        c("out one short", { 8: new Float32Array(5) }, RangeError, msg(fn, "out", lengthIs(6, "rows * outFeatures"), "length 5")),
        c("out one long", { 8: new Float32Array(7) }, RangeError, msg(fn, "out", lengthIs(6, "rows * outFeatures"), "length 7")),
        c("out empty", { 8: new Float32Array(0) }, RangeError, msg(fn, "out", lengthIs(6, "rows * outFeatures"), "length 0")),
        // Bad scales: NaN, zero (and negative zero), negative, infinite, in xScale and wScale.
        scale("xScale", 0, new Float32Array([1, 1]), NaN, "NaN"),
        scale("xScale", 1, new Float32Array([1, 1]), 0, "0"),
        scale("xScale", 1, new Float32Array([1, 1]), -0, "-0"),
        scale("xScale", 0, new Float32Array([1, 1]), -2, "-2"),
        scale("xScale", 1, new Float32Array([1, 1]), Infinity, "Infinity"),
        scale("xScale", 0, new Float32Array([1, 1]), -Infinity, "-Infinity"),
        scale("xScale", 0, new Float32Array([1, 1]), -1e-30, num(Math.fround(-1e-30))),
        scale("wScale", 0, new Float32Array([1]), NaN, "NaN"),
        scale("wScale", 0, new Float32Array([1]), 0, "0"),
        scale("wScale", 0, new Float32Array([1]), -0.5, "-0.5"),
        scale("wScale", 0, new Float32Array([1]), Infinity, "Infinity"),
        scale("wScale", 0, new Float32Array([1]), -Infinity, "-Infinity"),
        scale("wScale", 2, new Float32Array([1, 1, 1]), NaN, "NaN"),
        scale("wScale", 1, new Float32Array([1, 1, 1]), 0, "0"),
        scale("wScale", 2, new Float32Array([1, 1, 1]), -3, "-3"),
        scale("wScale", 0, new Float32Array([1, 1, 1]), Infinity, "Infinity"),
        // xSum must be the row sums of xq (a wrong one would give wrong outputs, or overflow int32).
        c("xSum[1] = 5 for a zero row", { 4: new Int32Array([0, 5]) }, RangeError, msg(fn, "xSum", "the row sums of xq", "xSum[1] = 5 (row 1 of xq sums to 0)")),
        c("xSum[0] = -2^31", { 4: new Int32Array([-(2 ** 31), 0]) }, RangeError, msg(fn, "xSum", "the row sums of xq", `xSum[0] = ${-(2 ** 31)} (row 0 of xq sums to 0)`)),
        c("xSum for an unpadded row sum", { 0: new Int8Array(512).fill(1, 0, 3).fill(1, 256, 300), 4: new Int32Array([3, 3]) }, RangeError, msg(fn, "xSum", "the row sums of xq", "xSum[1] = 3 (row 1 of xq sums to 44)")),
        // The output sharing memory with any input.
        ...(
          [
            ["xq", (b: ArrayBuffer) => ({ 0: new Int8Array(b, 0, 512), 8: new Float32Array(b, 0, 6) })],
            ["xScale", (b: ArrayBuffer) => ({ 3: new Float32Array(b, 16, 2), 8: new Float32Array(b, 0, 6) })],
            ["xSum", (b: ArrayBuffer) => ({ 4: new Int32Array(b, 20, 2), 8: new Float32Array(b, 0, 6) })],
            ["w", (b: ArrayBuffer) => ({ 5: new Uint8Array(b, 0, 256).fill(0x55), 8: new Float32Array(b, 252, 6) })],
            ["wScale", (b: ArrayBuffer) => ({ 7: new Float32Array(b, 0, 1).fill(1), 8: new Float32Array(b, 0, 6) })],
          ] as [string, (b: ArrayBuffer) => Record<number, unknown>][]
        ).map(([name, views]) => ({
          label: `out over the same memory as ${name}`,
          call: () => raw[fn](...mmArgs(views(new ArrayBuffer(1024)))),
          error: RangeError,
          message: msg(fn, "out", OVERLAP(name), "an overlapping view"),
        })),
        ...detachedCases(fn, mmArgs, [
          [0, "xq", Int8Array, I8],
          [3, "xScale", Float32Array, F32],
          [4, "xSum", Int32Array, I32],
          [5, "w", Uint8Array, U8],
          [7, "wScale", Float32Array, F32],
          [8, "out", Float32Array, F32],
        ]),
        c("out of a freed buffer, rows 0", { 0: new Int8Array(0), 1: 0, 3: new Float32Array(0), 4: new Int32Array(0), 8: freedView(Float32Array) }, TypeError, msg(fn, "out", F32 + LIVE, `Float32Array(0)${DETACHED}`)),
        c("w of a freed buffer, outFeatures 0", { 5: freedView(Uint8Array), 6: 0, 7: new Float32Array(0), 8: new Float32Array(0) }, TypeError, msg(fn, "w", U8 + LIVE, `Uint8Array(0)${DETACHED}`)),
      ];
      return cases;
    },
    valid: () => {
      // By hand: x = [0.5, -1, 0.25] quantizes to [64, -127, 32] with scale 127; w row [1, -1, 0]
      // gives dot 64 + 127 = 191, times wScale 2, over 127.
      const q = new Int8Array(256);
      const xs = new Float32Array(1);
      const xsum = new Int32Array(1);
      addon().quantizeActivationsInt8(new Float32Array([0.5, -1, 0.25]), 1, 3, q, xs, xsum);
      const w1 = new Uint8Array(256);
      addon().packTernary(new Int8Array([1, -1, 0]), 1, 3, "tl256", w1);
      const o1 = new Float32Array(1);
      addon().ternaryMatmul(q, 1, 3, xs, xsum, w1, 1, Float32Array.of(2), o1);
      assert.equal(o1[0], Math.fround(Math.fround(191 * 2) / 127));
      assert.ok(Math.abs(o1[0] - (0.5 + 1) * 2) < 0.02, "close to the float product 3");
      // Against a plain JS dot product: several shapes (GEMV, a GEMM with several 16-row tiles,
      // a K with padding), one scale and per-row scales.
      for (const [m, k, n] of [[1, 300, 20], [5, 300, 37], [4, 256, 16], [3, 1, 2]]) {
        const kp = Math.ceil(k / 256) * 256;
        const r = lcg(m * 1000 + k + n);
        const x = Float32Array.from({ length: m * k }, () => (r() - 0.5) * 6);
        const xq = new Int8Array(m * kp);
        const xScale = new Float32Array(m);
        const xSum = new Int32Array(m);
        addon().quantizeActivationsInt8(x, m, k, xq, xScale, xSum);
        const w = ternaryWeights(n * k, n + k);
        const packed = new Uint8Array(Math.ceil(n / 4) * 4 * (kp / 4));
        assert.equal(packed.length, packedBytes("tl256", n, k));
        addon().packTernary(w, n, k, "tl256", packed);
        for (const wScale of [Float32Array.of(0.75), Float32Array.from({ length: n }, (_, j) => 0.5 + j / 8)]) {
          const out = new Float32Array(m * n).fill(NaN);
          addon().ternaryMatmul(xq, m, k, xScale, xSum, packed, n, wScale, out);
          const expected = new Float32Array(m * n);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let dot = 0;
              for (let c = 0; c < k; c++) dot += w[j * k + c] * xq[i * kp + c];
              const s = wScale.length === 1 ? wScale[0] : wScale[j];
              expected[i * n + j] = Math.fround(Math.fround(Math.fround(dot) * s) / xScale[i]);
            }
          }
          assert.deepEqual(out, expected, `ternaryMatmul ${m}x${k}x${n}, ${wScale.length} scale(s)`);
        }
      }
      // Empty products are no-ops.
      addon().ternaryMatmul(new Int8Array(0), 0, 3, new Float32Array(0), new Int32Array(0), new Uint8Array(256), 1, Float32Array.of(1), new Float32Array(0));
      addon().ternaryMatmul(new Int8Array(256), 1, 3, Float32Array.of(1), new Int32Array(1), new Uint8Array(0), 0, new Float32Array(0), new Float32Array(0));
    },
  },

};
