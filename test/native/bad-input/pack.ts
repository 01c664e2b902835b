// Bad-input cases of native/src/binding/pack.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, TWO53, esc, msg, freedView, LIVE, I8, U8, DIM, KMAX, DETACHED, otherTyped, caseWith, detachedCases, absurdSizes, lengthIs, OVERLAP, packedBytes, tl256Offset, ternaryWeights, packArgs, unpackArgs } from "./harness";

export const TABLE: Record<string, Binding> = {
  packTernary: {
    riskyExtras: true,
    signature: "packTernary(w, rows, cols, layout, out)",
    required: 5,
    params: [
      { name: "w", kind: "typed", expected: I8, valid: () => packArgs()[0], wrongTyped: otherTyped(Int8Array, 6) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "layout", kind: "string", expected: "a string", valid: () => "tl256" },
      { name: "out", kind: "typed", expected: U8, valid: () => new Uint8Array(256), wrongTyped: otherTyped(Uint8Array, 256) },
    ],
    extra: () => {
      const fn = "packTernary";
      const c = caseWith(fn, packArgs);
      const layouts = "one of 'tl256', 'i2s', 'hf'";
      const outLen = (layout: string, n: number, got: number): RegExp => msg(fn, "out", lengthIs(n, `packed size for layout ${layout}`), `length ${got}`);
      const bad = (label: string, over: Record<number, unknown>, element: string): Case => c(label, over, RangeError, msg(fn, "w", esc("values in {-1, 0, 1}"), element));
      return [
        ...["", "TL256", "tl128", "i2_s", "I2S", "hf ", "gguf", "tq2_0"].map((l) => c(`layout '${l}'`, { 3: l }, RangeError, msg(fn, "layout", layouts, `'${l}'`))),
        ...absurdSizes(fn, packArgs, 1, "rows", DIM),
        ...absurdSizes(fn, packArgs, 2, "cols", DIM),
        c("rows = cols = 2^31 (2^62 elements)", { 1: DIM, 2: DIM }, RangeError, msg(fn, "cols", esc(`at most ${2 ** 22} when rows is ${DIM} (rows * cols at most 2^53)`), String(DIM))),
        c("rows = 2^31, cols = 2^22 + 1", { 1: DIM, 2: KMAX + 1 }, RangeError, msg(fn, "cols", esc(`at most ${2 ** 22} when rows is ${DIM} (rows * cols at most 2^53)`), String(KMAX + 1))),
        c("rows = 2^31, cols = 2^22 (2^53 elements)", { 1: DIM, 2: KMAX }, RangeError, msg(fn, "w", lengthIs(TWO53, "rows * cols"), "length 6")),
        // Shapes a layout cannot hold.
        ...[1, 3, 100, 127, 129, 200].map((cols) => c(`i2s with cols ${cols}`, { 2: cols, 3: "i2s" }, RangeError, msg(fn, "cols", "a multiple of 128 for layout 'i2s'", String(cols)))),
        ...[1, 2, 3, 5, 6, 7].map((rows) => c(`hf with rows ${rows}`, { 1: rows, 3: "hf" }, RangeError, msg(fn, "rows", "a multiple of 4 for layout 'hf'", String(rows)))),
        // Length mismatches, for each layout.
        c("w one short", { 0: new Int8Array(5) }, RangeError, msg(fn, "w", lengthIs(6, "rows * cols"), "length 5")),
        c("w one long", { 0: new Int8Array(7) }, RangeError, msg(fn, "w", lengthIs(6, "rows * cols"), "length 7")),
        // tl256 of 2 x 3: rows padded to a group of 4, each one block of 64 bytes: 256 bytes.
        c("tl256 out unpadded (rows * cols / 4)", { 4: new Uint8Array(2) }, RangeError, outLen("tl256", 256, 2)),
        c("tl256 out one long", { 4: new Uint8Array(257) }, RangeError, outLen("tl256", 256, 257)),
        c("tl256 out one short", { 4: new Uint8Array(255) }, RangeError, outLen("tl256", 256, 255)),
        c("tl256 out for cols 257 (two blocks a row)", { 0: new Int8Array(514), 2: 257 }, RangeError, outLen("tl256", 512, 256)),
        // The size before rows were grouped (rows * Kp / 4) is refused: rows are padded to a multiple of 4.
        c("tl256 out in the ungrouped size (rows 2 * 64)", { 4: new Uint8Array(128) }, RangeError, outLen("tl256", 256, 128)),
        c("tl256 out in the ungrouped size (rows 5, cols 300: 5 * 128)", { 0: new Int8Array(1500), 1: 5, 2: 300, 4: new Uint8Array(640) }, RangeError, outLen("tl256", 1024, 640)),
        c("i2s out one short", { 0: new Int8Array(256), 2: 128, 3: "i2s", 4: new Uint8Array(63) }, RangeError, outLen("i2s", 64, 63)),
        c("i2s out in tl256 size", { 0: new Int8Array(256), 2: 128, 3: "i2s", 4: new Uint8Array(256) }, RangeError, outLen("i2s", 64, 256)),
        c("hf out one long", { 0: new Int8Array(12), 1: 4, 3: "hf", 4: new Uint8Array(4) }, RangeError, outLen("hf", 3, 4)),
        c("hf out in tl256 size", { 0: new Int8Array(12), 1: 4, 3: "hf", 4: new Uint8Array(256) }, RangeError, outLen("hf", 3, 256)),
        c("hf w one short", { 0: new Int8Array(11), 1: 4, 3: "hf", 4: new Uint8Array(3) }, RangeError, msg(fn, "w", lengthIs(12, "rows * cols"), "length 11")),
        // Weights outside {-1, 0, 1}: the message names the element.
        bad("w[4] = 2", { 0: new Int8Array([1, -1, 0, 0, 2, -1]) }, "w[4] = 2"),
        bad("w[0] = -2", { 0: new Int8Array([-2, -1, 0, 0, 1, -1]) }, "w[0] = -2"),
        bad("w[5] = 127", { 0: new Int8Array([1, -1, 0, 0, 1, 127]) }, "w[5] = 127"),
        bad("w[2] = -128", { 0: new Int8Array([1, -1, -128, 0, 1, 1]) }, "w[2] = -128"),
        bad("i2s, w[200] = 3", { 0: new Int8Array(256).fill(3, 200, 201), 2: 128, 3: "i2s", 4: new Uint8Array(64) }, "w[200] = 3"),
        bad("hf, w[7] = -5", { 0: new Int8Array(12).fill(-5, 7, 8), 1: 4, 3: "hf", 4: new Uint8Array(3) }, "w[7] = -5"),
        {
          label: "out over the same memory as w",
          call: () => {
            const b = new ArrayBuffer(256);
            return raw[fn](new Int8Array(b, 0, 6), 2, 3, "tl256", new Uint8Array(b));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("w"), "an overlapping view"),
        },
        {
          label: "hf out on the last byte of w",
          call: () => {
            const b = new ArrayBuffer(14);
            return raw[fn](new Int8Array(b, 0, 12), 4, 3, "hf", new Uint8Array(b, 11, 3));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("w"), "an overlapping view"),
        },
        ...detachedCases(fn, packArgs, [
          [0, "w", Int8Array, I8],
          [4, "out", Uint8Array, U8],
        ]),
        c("out of a freed buffer, empty shape", { 0: new Int8Array(0), 1: 0, 4: freedView(Uint8Array) }, TypeError, msg(fn, "out", U8 + LIVE, `Uint8Array(0)${DETACHED}`)),
      ];
    },
    valid: () => {
      // tl256: byte j of a block holds weights j, j+64, j+128, j+192 at bits 0, 2, 4, 6 (code w + 1);
      // the padding weights are 0 (code 1, so untouched fields read 01).
      // One row is a group of four (rows 1-3 zero): 4 * 64 bytes, all written.
      const t = new Uint8Array(256).fill(0xee);
      addon().packTernary(new Int8Array([1, -1, 0]), 1, 3, "tl256", t);
      assert.deepEqual(Array.from(t.subarray(0, 4)), [0x56, 0x54, 0x55, 0x55]);
      assert.ok(t.subarray(3).every((v) => v === 0x55));
      // Groups of four rows: for each block, the blocks of the group's rows 0-3 back to back.
      // 5 x 257 (Kp 512): rows padded to 8, two groups of 512 bytes. Weight (row, col) is in byte
      // tl256Offset(512, row, col / 256) + col % 64, field (col % 256) / 64.
      const wg = new Int8Array(5 * 257);
      wg[1 * 257 + 256] = -1; // row 1, block 1, byte 0, field 0: 512 * 0 + 256 + 64 = 320
      wg[2 * 257 + 65] = -1; // row 2, block 0, byte 1, field 1: 128 + 1 = 129
      wg[4 * 257 + 200] = 1; // row 4 (group 1, row 0), block 0, byte 8, field 3: 512 + 8 = 520
      wg[3 * 257 + 255] = 1; // row 3, block 0, byte 63, field 3: 192 + 63 = 255
      const tg = new Uint8Array(1024).fill(0xee);
      addon().packTernary(wg, 5, 257, "tl256", tg);
      assert.equal(tl256Offset(512, 1, 1), 320);
      assert.equal(tl256Offset(512, 4, 0), 512);
      const want = new Uint8Array(1024).fill(0x55);
      want[320] = 0x54;
      want[129] = 0x51;
      want[520] = 0x95;
      want[255] = 0x95;
      assert.deepEqual(tg, want);
      // i2s: byte j of 32 holds weights j, j+32, j+64, j+96 at bits 6, 4, 2, 0.
      const wi = new Int8Array(128);
      wi[0] = 1;
      wi[96] = -1;
      wi[33] = 1;
      const i = new Uint8Array(32);
      addon().packTernary(wi, 1, 128, "i2s", i);
      assert.deepEqual(Array.from(i.subarray(0, 3)), [0x94, 0x65, 0x55]);
      assert.ok(i.subarray(2).every((v) => v === 0x55));
      // hf [N/4, K]: byte [r, c] holds rows r, r+N/4, r+N/2, r+3N/4 of column c at bits 0, 2, 4, 6.
      const h = new Uint8Array(2);
      addon().packTernary(new Int8Array([1, 0, -1, 1, 0, -1, 1, 1]), 4, 2, "hf", h);
      assert.deepEqual(Array.from(h), [2 | (0 << 2) | (1 << 4) | (2 << 6), 1 | (2 << 2) | (0 << 4) | (2 << 6)]);
      // Round trip of every layout through unpackTernary.
      for (const [layout, rows, cols] of [["tl256", 3, 300], ["i2s", 3, 256], ["hf", 8, 37]] as const) {
        const w = ternaryWeights(rows * cols, rows * cols);
        const packed = new Uint8Array(packedBytes(layout, rows, cols));
        addon().packTernary(w, rows, cols, layout, packed);
        const back = new Int8Array(rows * cols).fill(5);
        addon().unpackTernary(packed, rows, cols, layout, back);
        assert.deepEqual(back, w, `round trip through ${layout}`);
      }
      addon().packTernary(new Int8Array(0), 0, 5, "tl256", new Uint8Array(0));
      addon().packTernary(new Int8Array(0), 4, 0, "hf", new Uint8Array(0));
    },
  },

  unpackTernary: {
    riskyExtras: true,
    signature: "unpackTernary(packed, rows, cols, layout, out)",
    required: 5,
    params: [
      { name: "packed", kind: "typed", expected: U8, valid: () => unpackArgs()[0], wrongTyped: otherTyped(Uint8Array, 256) },
      { name: "rows", kind: "number", expected: "a number", valid: () => 2, range: [0, DIM] },
      { name: "cols", kind: "number", expected: "a number", valid: () => 3, range: [0, DIM] },
      { name: "layout", kind: "string", expected: "a string", valid: () => "tl256" },
      { name: "out", kind: "typed", expected: I8, valid: () => new Int8Array(6), wrongTyped: otherTyped(Int8Array, 6) },
    ],
    extra: () => {
      const fn = "unpackTernary";
      const c = caseWith(fn, unpackArgs);
      const layouts = "one of 'tl256', 'i2s', 'hf'";
      const packedLen = (layout: string, n: number, got: number): RegExp => msg(fn, "packed", lengthIs(n, `packed size for layout ${layout}`), `length ${got}`);
      /** `bytes` of 0x55 (all zero weights) with code 3 put in byte `at`, bit offset `shift`. */
      const code3 = (bytes: number, at: number, shift: number): Uint8Array => {
        const p = new Uint8Array(bytes).fill(0x55);
        p[at] |= 3 << shift;
        return p;
      };
      const bad = (label: string, over: Record<number, unknown>, weight: number): Case => c(label, over, RangeError, msg(fn, "packed", "2-bit codes 0, 1 or 2", `code 3 for weight ${weight}`));
      return [
        ...["", "TL256", "i2s\u0000", "hf4", "bitnet"].map((l) => c(`layout '${l}'`, { 3: l }, RangeError, msg(fn, "layout", layouts, `'${l}'`))),
        ...absurdSizes(fn, unpackArgs, 1, "rows", DIM),
        ...absurdSizes(fn, unpackArgs, 2, "cols", DIM),
        c("rows = cols = 2^31 (2^62 elements)", { 1: DIM, 2: DIM }, RangeError, msg(fn, "cols", esc(`at most ${2 ** 22} when rows is ${DIM} (rows * cols at most 2^53)`), String(DIM))),
        c("rows = 2^31, cols = 2^22 (2^53 elements)", { 1: DIM, 2: KMAX }, RangeError, packedLen("tl256", TWO53 / 4, 256)),
        ...[3, 64, 130].map((cols) => c(`i2s with cols ${cols}`, { 2: cols, 3: "i2s" }, RangeError, msg(fn, "cols", "a multiple of 128 for layout 'i2s'", String(cols)))),
        ...[1, 2, 10].map((rows) => c(`hf with rows ${rows}`, { 1: rows, 3: "hf" }, RangeError, msg(fn, "rows", "a multiple of 4 for layout 'hf'", String(rows)))),
        // tl256 of 2 x 3: rows padded to a group of 4, each one block of 64 bytes: 256 bytes.
        c("tl256 packed unpadded", { 0: new Uint8Array(2) }, RangeError, packedLen("tl256", 256, 2)),
        c("tl256 packed one long", { 0: new Uint8Array(257) }, RangeError, packedLen("tl256", 256, 257)),
        c("tl256 packed in the ungrouped size (rows 2 * 64)", { 0: new Uint8Array(128).fill(0x55) }, RangeError, packedLen("tl256", 256, 128)),
        c("tl256 packed for cols 257 (two blocks a row)", { 2: 257, 4: new Int8Array(514) }, RangeError, packedLen("tl256", 512, 256)),
        c("i2s packed one short", { 0: new Uint8Array(63), 2: 128, 3: "i2s", 4: new Int8Array(256) }, RangeError, packedLen("i2s", 64, 63)),
        c("hf packed in i2s size", { 0: new Uint8Array(1), 1: 4, 3: "hf", 4: new Int8Array(12) }, RangeError, packedLen("hf", 3, 1)),
        c("out one short", { 4: new Int8Array(5) }, RangeError, msg(fn, "out", lengthIs(6, "rows * cols"), "length 5")),
        c("out padded like tl256", { 4: new Int8Array(512) }, RangeError, msg(fn, "out", lengthIs(6, "rows * cols"), "length 512")),
        c("hf out one long", { 0: new Uint8Array(3), 1: 4, 3: "hf", 4: new Int8Array(13) }, RangeError, msg(fn, "out", lengthIs(12, "rows * cols"), "length 13")),
        // Code 3 is no ternary weight: the message names the weight (flat index).
        bad("tl256 code 3 for weight 0", { 0: code3(256, 0, 0) }, 0),
        bad("tl256 code 3 for weight 5 (row 1, col 2)", { 0: code3(256, tl256Offset(256, 1, 0) + 2, 0) }, 5),
        bad("tl256 byte 0xff", { 0: new Uint8Array(256).fill(0x55).fill(0xff, 1, 2) }, 1),
        // 2 x 257 (Kp 512): block 1 of row 1 follows block 1 of row 0 (byte 256 + 64), not block 0
        // of row 1 (byte 128 + 64 before rows were grouped).
        bad("tl256 code 3 for weight 513 (row 1, col 256: block 1)", { 0: code3(512, tl256Offset(512, 1, 1), 0), 2: 257, 4: new Int8Array(514) }, 513),
        bad("tl256 code 3 for weight 257 + 130 (row 1, col 130: field 2)", { 0: code3(512, tl256Offset(512, 1, 0) + 2, 4), 2: 257, 4: new Int8Array(514) }, 387),
        bad("tl256 code 3 for weight 4 * 3 + 1 (row 4: the second group)", { 0: code3(512, tl256Offset(256, 4, 0) + 1, 0), 1: 5, 4: new Int8Array(15) }, 13),
        bad("i2s code 3 for weight 0 (bits 6-7)", { 0: code3(64, 0, 6), 2: 128, 3: "i2s", 4: new Int8Array(256) }, 0),
        bad("i2s code 3 for weight 101 (byte 5, bits 0-1)", { 0: code3(64, 5, 0), 2: 128, 3: "i2s", 4: new Int8Array(256) }, 101),
        bad("i2s code 3 for weight 128 + 64 (row 1)", { 0: code3(64, 32, 2), 2: 128, 3: "i2s", 4: new Int8Array(256) }, 192),
        bad("hf code 3 for weight 8 (row 2, col 2)", { 0: code3(3, 2, 4), 1: 4, 3: "hf", 4: new Int8Array(12) }, 8),
        bad("hf code 3 for weight 9 (row 3, col 0)", { 0: code3(3, 0, 6), 1: 4, 3: "hf", 4: new Int8Array(12) }, 9),
        {
          label: "out over the same memory as packed",
          call: () => {
            const b = new ArrayBuffer(256);
            return raw[fn](new Uint8Array(b).fill(0x55), 2, 3, "tl256", new Int8Array(b, 250, 6));
          },
          error: RangeError,
          message: msg(fn, "out", OVERLAP("packed"), "an overlapping view"),
        },
        ...detachedCases(fn, unpackArgs, [
          [0, "packed", Uint8Array, U8],
          [4, "out", Int8Array, I8],
        ]),
        c("packed of a freed buffer, empty shape", { 0: freedView(Uint8Array), 1: 0, 4: new Int8Array(0) }, TypeError, msg(fn, "packed", U8 + LIVE, `Uint8Array(0)${DETACHED}`)),
      ];
    },
    valid: () => {
      const out = new Int8Array(3).fill(9);
      addon().unpackTernary(Uint8Array.from({ length: 256 }, (_, j) => (j === 0 ? 0x56 : j === 1 ? 0x54 : 0x55)), 1, 3, "tl256", out);
      assert.deepEqual(Array.from(out), [1, -1, 0]);
      // Padding fields of tl256 rows, and the padding rows 1-3 of the group, are not weights: code
      // 3 there is not read.
      const padded = new Uint8Array(256).fill(0xff);
      padded.fill(0x55, 0, 3);
      addon().unpackTernary(padded, 1, 3, "tl256", out);
      assert.deepEqual(Array.from(out), [0, 0, 0]);
      // 2 x 257: weights by the grouped rule; byte 192 (row 1, block 1 before rows were grouped)
      // is now block 0 of padding row 3, so code 3 there is not read.
      const g = new Uint8Array(512).fill(0x55);
      g[tl256Offset(512, 1, 1)] = 0x56; // row 1, col 256 = +1
      g[tl256Offset(512, 1, 0) + 5] = 0x45; // row 1, col 128 + 5 = -1 (field 2)
      g[tl256Offset(512, 0, 1)] = 0x54; // row 0, col 256 = -1
      g[192] = 0xff;
      const gw = new Int8Array(514).fill(9);
      addon().unpackTernary(g, 2, 257, "tl256", gw);
      const gwant = new Int8Array(514);
      gwant[257 + 256] = 1;
      gwant[257 + 133] = -1;
      gwant[256] = -1;
      assert.deepEqual(gw, gwant);
      const hf = new Int8Array(8);
      addon().unpackTernary(Uint8Array.of(2 | (1 << 4) | (2 << 6), 1 | (2 << 2) | (2 << 6)), 4, 2, "hf", hf);
      assert.deepEqual(Array.from(hf), [1, 0, -1, 1, 0, -1, 1, 1]);
      for (const [layout, rows, cols] of [["tl256", 2, 513], ["i2s", 2, 384], ["hf", 12, 5]] as const) {
        const w = ternaryWeights(rows * cols, 99 + cols);
        const packed = new Uint8Array(packedBytes(layout, rows, cols));
        addon().packTernary(w, rows, cols, layout, packed);
        const back = new Int8Array(rows * cols);
        addon().unpackTernary(packed, rows, cols, layout, back);
        assert.deepEqual(back, w, `round trip through ${layout}`);
      }
      addon().unpackTernary(new Uint8Array(0), 0, 0, "i2s", new Int8Array(0));
    },
  },

};
