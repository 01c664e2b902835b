// Bad-input cases of native/src/binding/convert.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, msg, freedView, F32, U16, LIVE } from "./harness";

export const TABLE: Record<string, Binding> = {
  convert: {
    riskyExtras: true,
    signature: "convert(src, srcDtype, dst, dstDtype)",
    required: 4,
    params: [
      { name: "src", kind: "typed", expected: F32, valid: () => new Float32Array(4), wrongTyped: [new Uint16Array(4), new Float64Array(4), new Int32Array(4), new Uint8ClampedArray(4), new BigInt64Array(4)] },
      { name: "srcDtype", kind: "string", expected: "a string", valid: () => "f32" },
      { name: "dst", kind: "typed", expected: U16, valid: () => new Uint16Array(4), wrongTyped: [new Float32Array(4), new Int16Array(4), new Uint8Array(8), new BigUint64Array(1)] },
      { name: "dstDtype", kind: "string", expected: "a string", valid: () => "f16" },
    ],
    extra: () => {
      const cases: Case[] = [];
      const dtypes = "one of 'f32', 'f16', 'bf16'";
      for (const bad of ["f64", "F32", "", "float32", "i8", "ternary2", "f16 ", "f32\u0000"]) {
        cases.push({ label: `srcDtype '${bad}'`, call: () => raw.convert(new Float32Array(4), bad, new Uint16Array(4), "f16"), error: RangeError, message: msg("convert", "srcDtype", dtypes, `'${bad}'`) });
        cases.push({ label: `dstDtype '${bad}'`, call: () => raw.convert(new Float32Array(4), "f32", new Uint16Array(4), bad), error: RangeError, message: msg("convert", "dstDtype", dtypes, `'${bad}'`) });
      }
      for (const [from, to] of [["f32", "f32"], ["f16", "bf16"], ["bf16", "bf16"], ["f16", "f16"]]) {
        cases.push({
          label: `unsupported pair ${from} -> ${to}`,
          call: () => raw.convert(from === "f32" ? new Float32Array(4) : new Uint16Array(4), from, to === "f32" ? new Float32Array(4) : new Uint16Array(4), to),
          error: RangeError,
          message: new RegExp(`^convert: argument 'dstDtype' must be '.*' when srcDtype is '${from}', received '${to}'$`),
        });
      }
      cases.push(
        { label: "f16 src given as Float32Array", call: () => raw.convert(new Float32Array(4), "f16", new Float32Array(4), "f32"), error: TypeError, message: msg("convert", "src", U16, "Float32Array(4)") },
        { label: "f32 dst given as Uint16Array", call: () => raw.convert(new Uint16Array(4), "bf16", new Uint16Array(4), "f32"), error: TypeError, message: msg("convert", "dst", F32, "Uint16Array(4)") },
        { label: "dst shorter than src", call: () => raw.convert(new Float32Array(5), "f32", new Uint16Array(4), "f16"), error: RangeError, message: msg("convert", "dst", "of length 5 \\(the length of src\\)", "length 4") },
        { label: "dst longer than src", call: () => raw.convert(new Float32Array(4), "f32", new Uint16Array(5), "bf16"), error: RangeError, message: msg("convert", "dst", "of length 4 \\(the length of src\\)", "length 5") },
        { label: "empty src, non-empty dst", call: () => raw.convert(new Float32Array(0), "f32", new Uint16Array(1), "f16"), error: RangeError, message: msg("convert", "dst", "of length 0 \\(the length of src\\)", "length 1") },
        {
          label: "dst overlapping src (same buffer)",
          call: () => {
            const f = new Float32Array(8);
            return raw.convert(f.subarray(0, 4), "f32", new Uint16Array(f.buffer, 4, 4), "f16");
          },
          error: RangeError,
          message: msg("convert", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        {
          label: "dst overlapping src (f16 -> f32 in place)",
          call: () => {
            const buf = new ArrayBuffer(32);
            return raw.convert(new Uint16Array(buf, 0, 4), "f16", new Float32Array(buf, 0, 4), "f32");
          },
          error: RangeError,
          message: msg("convert", "dst", "memory that does not overlap src", "an overlapping view"),
        },
        { label: "src of a freed buffer", call: () => raw.convert(freedView(Float32Array), "f32", new Uint16Array(0), "f16"), error: TypeError, message: msg("convert", "src", F32 + LIVE, "Float32Array(0) over a detached (freed) ArrayBuffer") },
        { label: "dst of a freed buffer", call: () => raw.convert(new Float32Array(0), "f32", freedView(Uint16Array), "f16"), error: TypeError, message: msg("convert", "dst", U16 + LIVE, "Uint16Array(0) over a detached (freed) ArrayBuffer") },
        {
          label: "src of a transferred buffer",
          call: () => {
            const b = new ArrayBuffer(16);
            const v = new Float32Array(b);
            structuredClone(b, { transfer: [b] });
            return raw.convert(v, "f32", new Uint16Array(4), "f16");
          },
          error: TypeError,
          message: msg("convert", "src", F32 + LIVE, "Float32Array(0) over a detached (freed) ArrayBuffer"),
        },
      );
      return cases;
    },
    valid: () => {
      // Non-finite values are data here, not bad input: they convert like any other.
      const src = new Float32Array([1, -2.5, NaN, Infinity, -Infinity, 65504, 1e-8]);
      const half = new Uint16Array(src.length);
      addon().convert(src, "f32", half, "f16");
      const back = new Float32Array(src.length);
      addon().convert(half, "f16", back, "f32");
      assert.deepEqual(Array.from(back).map(String), ["1", "-2.5", "NaN", "Infinity", "-Infinity", "65504", "0"]);
      // SharedArrayBuffer views are ordinary memory.
      const shared = new Float32Array(new SharedArrayBuffer(16)).fill(2);
      const out = new Uint16Array(new SharedArrayBuffer(8));
      addon().convert(shared, "f32", out, "bf16");
      assert.deepEqual(Array.from(out), [0x4000, 0x4000, 0x4000, 0x4000]);
    },
  },

};
