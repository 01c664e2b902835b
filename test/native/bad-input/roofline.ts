// Bad-input cases of native/src/binding/roofline.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, raw, msg, freedView, LIVE, U8 } from "./harness";

export const TABLE: Record<string, Binding> = {
  streamRead: {
    riskyExtras: true,
    signature: "streamRead(data)",
    required: 1,
    params: [{ name: "data", kind: "typed", expected: U8, valid: () => new Uint8Array(64), wrongTyped: [new Int8Array(8), new Uint8ClampedArray(8), new Float64Array(1), new BigUint64Array(1)] }],
    extra: () => [
      { label: "length not a multiple of 8", call: () => raw.streamRead(new Uint8Array(12)), error: RangeError, message: msg("streamRead", "data", "a length that is a multiple of 8", "length 12") },
      { label: "a view of a freed buffer", call: () => raw.streamRead(freedView(Uint8Array)), error: TypeError, message: msg("streamRead", "data", U8 + LIVE, "Uint8Array(0) over a detached (freed) ArrayBuffer") },
    ],
    valid: () => {
      // XOR of the 64-bit words: two equal words cancel, a lone word survives (low 32 bits).
      const words = new BigUint64Array([0x1234567890abcdefn, 0x1234567890abcdefn, 0xfedcba9800000005n]);
      assert.equal(addon().streamRead(new Uint8Array(words.buffer)), 5);
      const big = new Uint8Array(1 << 20);
      big[8 * 1000] = 7;
      assert.equal(addon().streamRead(big), 7);
      assert.equal(addon().streamRead(new Uint8Array(0)), 0);
    },
  },

  int8DotPeak: {
    riskyExtras: false,
    signature: "int8DotPeak(iterations)",
    required: 1,
    params: [{ name: "iterations", kind: "number", expected: "a number", valid: () => 10, range: [1, 2 ** 40] }],
    extra: () => [],
    valid: () => {
      // Each thread runs the chain; the count of operations depends only on the ISA's chain.
      const ops = addon().int8DotPeak(100);
      assert.ok(Number.isInteger(ops) && ops > 0 && ops % (100 * addon().getNumThreads()) === 0, `ops ${ops}`);
    },
  },

};
