// Bad-input cases of native/src/binding/storage.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, MAX, TWO53, TWO40, msg, freedBuffer, freedView, transferred, VIEW } from "./harness";

export const TABLE: Record<string, Binding> = {
  alloc: {
    riskyExtras: true,
    signature: "alloc(byteLength, zero)",
    required: 2,
    params: [
      { name: "byteLength", kind: "number", expected: "a number", valid: () => 64, range: [0, TWO40] },
      { name: "zero", kind: "boolean", expected: "a boolean", valid: () => true },
    ],
    extra: () => {
      const limit = (n: number): Case => ({
        label: `byteLength = ${n} (past the Node.js buffer limit)`,
        call: () => raw.alloc(n, false),
        error: RangeError,
        message: msg("alloc", "byteLength", `at most ${MAX} \\(the largest single buffer this Node.js allows\\)`, String(n)),
      });
      return [limit(TWO40), ...(MAX < TWO40 ? [limit(MAX + 1), limit(MAX + 64)] : [])];
    },
    valid: () => {
      const b = addon().alloc(256, true);
      assert.equal(b.byteLength, 256);
      assert.ok(new Uint8Array(b).every((x) => x === 0));
      assert.ok(addon().alignmentOf(b) >= 64);
      assert.equal(addon().free(b), true);
    },
  },

  free: {
    riskyExtras: true,
    signature: "free(buffer)",
    required: 1,
    params: [{ name: "buffer", kind: "buffer", expected: "an ArrayBuffer", valid: () => addon().alloc(8, false) }],
    extra: () => {
      const foreign = "an ArrayBuffer allocated by bitnet-lab's alloc\\(\\)";
      const mk = (label: string, b: () => ArrayBuffer, got: string): Case => ({
        label,
        call: () => raw.free(b()),
        error: TypeError,
        message: msg("free", "buffer", foreign, got),
      });
      return [
        mk("a JS ArrayBuffer", () => new ArrayBuffer(8), "ArrayBuffer(8)"),
        mk("an empty JS ArrayBuffer", () => new ArrayBuffer(0), "ArrayBuffer(0)"),
        mk("a copy of an alloc()ed buffer", () => addon().alloc(16, false).slice(0), "ArrayBuffer(16)"),
        mk("a copy of an empty alloc()ed buffer", () => addon().alloc(0, false).slice(0), "ArrayBuffer(0)"),
        mk("Node's Buffer pool", () => Buffer.from("pool").buffer as ArrayBuffer, `ArrayBuffer(${(Buffer.from("x").buffer as ArrayBuffer).byteLength})`),
        mk("a resizable ArrayBuffer", () => new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(8, { maxByteLength: 16 }), "ArrayBuffer(8)"),
        {
          label: "a view of an alloc()ed buffer instead of the buffer",
          call: () => raw.free(new Float32Array(addon().alloc(16, false))),
          error: TypeError,
          message: msg("free", "buffer", "an ArrayBuffer", "Float32Array(4)"),
        },
      ];
    },
    valid: () => {
      const b = addon().alloc(32, false);
      const view = new Float32Array(b);
      assert.equal(addon().free(b), true);
      assert.equal(view.length, 0, "views of a freed buffer drop to length 0");
      assert.equal(addon().free(b), false, "a second free is a no-op");
      assert.equal(addon().free(transferred()), false, "a detached buffer is a no-op");
      const empty = addon().alloc(0, true);
      assert.equal(addon().free(empty), true, "zero-byte buffers free too");
      assert.equal(addon().free(empty), false);
    },
  },

  alignmentOf: {
    riskyExtras: true,
    signature: "alignmentOf(view)",
    required: 1,
    params: [{ name: "view", kind: "view", expected: VIEW, valid: () => new Float32Array(4) }],
    extra: () => [
      { label: "a freed buffer", call: () => raw.alignmentOf(freedBuffer()), error: TypeError, message: msg("alignmentOf", "view", VIEW, "a detached (freed) ArrayBuffer") },
      { label: "a transferred buffer", call: () => raw.alignmentOf(transferred()), error: TypeError, message: msg("alignmentOf", "view", VIEW, "a detached (freed) ArrayBuffer") },
      {
        label: "a view of a freed buffer",
        call: () => raw.alignmentOf(freedView(Float64Array)),
        error: TypeError,
        message: msg("alignmentOf", "view", VIEW, "Float64Array(0) over a detached (freed) ArrayBuffer"),
      },
      {
        label: "a DataView of a freed buffer",
        call: () => raw.alignmentOf(freedView(DataView)),
        error: TypeError,
        message: msg("alignmentOf", "view", VIEW, "DataView(0 bytes) over a detached (freed) ArrayBuffer"),
      },
    ],
    valid: () => {
      const b = addon().alloc(128, false);
      assert.ok(addon().alignmentOf(b) >= 64);
      assert.equal(addon().alignmentOf(new Uint8Array(b, 8, 4)), 8);
      assert.equal(addon().alignmentOf(new DataView(b, 4)), 4);
      assert.ok(addon().alignmentOf(new Float32Array(new SharedArrayBuffer(16))) >= 4);
      addon().free(b);
    },
  },

  setBufferLimit: {
    riskyExtras: false,
    signature: "setBufferLimit(byteLength)",
    required: 1,
    params: [{ name: "byteLength", kind: "number", expected: "a number", valid: () => MAX, range: [0, TWO53] }],
    extra: () => [],
    valid: () => {
      addon().setBufferLimit(64);
      try {
        assert.throws(() => addon().alloc(65, false), RangeError);
      } finally {
        addon().setBufferLimit(MAX);
      }
      addon().free(addon().alloc(65, false));
    },
  },

  nativeMemory: {
    riskyExtras: false,
    signature: "nativeMemory()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => {
      const m = addon().nativeMemory();
      assert.ok(Number.isSafeInteger(m.liveBytes) && m.liveBytes >= 0);
      assert.ok(Number.isSafeInteger(m.liveAllocations) && m.liveAllocations >= 0);
    },
  },

};
