// The convert kernel family: every ISA variant must give the scalar reference's bits for every
// input, and the reference must round to nearest even (checked against float64 arithmetic).
import { test } from "node:test";
import assert from "node:assert/strict";
import { addon } from "../../src/backend/addon";
import { backendInfo, setIsa, setNumThreads, getNumThreads, f16BitsToNumber, bf16BitsToNumber, numberToF16Bits, numberToBf16Bits } from "../../src";
import { Generator } from "../../src/tensor/random";

const isas = backendInfo().isa.supported;

function allHalfPatterns(): Uint16Array {
  const a = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) a[i] = i;
  return a;
}

/** f32 bit patterns: random words plus every special class. */
function f32Patterns(n: number): Float32Array {
  const bits = new Uint32Array(n);
  new Generator(7).nextUint32(bits);
  const specials = [
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff, 0x00000001, 0x807fffff,
    0x477fe000, 0x477ff000, 0x477fefff, 0x477ff001, 0x33000000, 0x33000001, 0x32ffffff, 0x38800000, 0x387fffff,
    0x3f800000, 0x3f801000, 0x3f803000, 0x3f808000, 0x3f818000, 0x7f7fffff, 0x7f7f8000, 0x7f7f7fff,
  ];
  specials.forEach((s, i) => (bits[i] = s));
  // Dense coverage of the f16 range: exponents 0x30..0x48 with random mantissas.
  for (let i = specials.length; i < n / 2; i++) bits[i] = ((bits[i] & 0x807fffff) | ((0x60 + (bits[i] % 0x30)) << 23)) >>> 0;
  return new Float32Array(bits.buffer);
}

function withEachIsa<T>(fn: () => T): Map<string, T> {
  const out = new Map<string, T>();
  try {
    for (const isa of isas) {
      setIsa(isa as "scalar");
      out.set(isa, fn());
    }
  } finally {
    setIsa("auto");
  }
  return out;
}

function assertAllEqual(results: Map<string, Uint8Array>, what: string): void {
  const ref = results.get("scalar");
  assert.ok(ref, "scalar variant must exist");
  for (const [isa, bytes] of results) {
    assert.ok(Buffer.from(bytes).equals(Buffer.from(ref)), `${what}: ${isa} differs from scalar`);
  }
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

test("machine exposes the variants we expect to test", () => {
  assert.ok(isas.includes("scalar"));
  console.log(`# convert variants tested here: ${isas.join(", ")}`);
});

test("f16 -> f32: all 65536 patterns identical across ISA variants and exact", () => {
  const src = allHalfPatterns();
  const results = withEachIsa(() => {
    const out = new Float32Array(src.length);
    addon().convert(src, "f16", out, "f32");
    return bytesOf(out);
  });
  assertAllEqual(results, "f16->f32");
  const out = new Float32Array(results.get("scalar")!.buffer);
  for (let h = 0; h < 65536; h++) {
    const expected = f16BitsToNumber(h);
    if (Number.isNaN(expected)) assert.ok(Number.isNaN(out[h]), `pattern ${h.toString(16)} must stay NaN`);
    else assert.equal(out[h], expected, `pattern ${h.toString(16)}`);
  }
});

test("bf16 -> f32: all 65536 patterns identical across ISA variants and exact", () => {
  const src = allHalfPatterns();
  const results = withEachIsa(() => {
    const out = new Float32Array(src.length);
    addon().convert(src, "bf16", out, "f32");
    return bytesOf(out);
  });
  assertAllEqual(results, "bf16->f32");
  const words = new Uint32Array(results.get("scalar")!.buffer);
  for (let h = 0; h < 65536; h++) assert.equal(words[h], (h << 16) >>> 0);
});

for (const dtype of ["f16", "bf16"] as const) {
  test(`f32 -> ${dtype}: variants identical on 2^20 patterns, lengths not a multiple of the vector width`, () => {
    const src = f32Patterns((1 << 20) + 13);
    const results = withEachIsa(() => {
      const out = new Uint16Array(src.length);
      addon().convert(src, "f32", out, dtype);
      return bytesOf(out);
    });
    assertAllEqual(results, `f32->${dtype}`);
    // The TS encoder (used for scalars) agrees with the kernels.
    const out = new Uint16Array(results.get("scalar")!.buffer);
    const encode = dtype === "f16" ? numberToF16Bits : numberToBf16Bits;
    for (let i = 0; i < src.length; i += 7) assert.equal(out[i], encode(src[i]), `element ${i} (${src[i]})`);
  });

  test(`f32 -> ${dtype} rounds to nearest, ties to even (float64 check)`, () => {
    const src = f32Patterns(1 << 16);
    const out = new Uint16Array(src.length);
    addon().convert(src, "f32", out, dtype);
    const decode = dtype === "f16" ? f16BitsToNumber : bf16BitsToNumber;
    const maxFinite = dtype === "f16" ? 65504 : 3.3895313892515355e38;
    for (let i = 0; i < src.length; i++) {
      const x = src[i];
      const h = out[i];
      if (Number.isNaN(x)) {
        assert.ok(Number.isNaN(decode(h)), `NaN must stay NaN at ${i}`);
        continue;
      }
      const y = decode(h);
      if (!Number.isFinite(y)) {
        // Overflow only when x is at least halfway past the largest finite value.
        const ulp = dtype === "f16" ? 32 : 2 ** 104;
        assert.ok(Math.abs(x) >= maxFinite + ulp / 2 || !Number.isFinite(x), `${x} must not overflow`);
        continue;
      }
      // The neighbours of y in the format (same sign); y must be at least as close as either.
      const up = decode(h + 1 <= 0xffff ? h + 1 : h);
      const down = decode(h - 1 >= 0 ? h - 1 : h);
      const err = Math.abs(x - y);
      for (const n of [up, down]) {
        if (!Number.isFinite(n) || Number.isNaN(n) || Math.sign(n) !== Math.sign(y) && n !== 0) continue;
        const other = Math.abs(x - n);
        assert.ok(err <= other, `${x}: got ${y}, but ${n} is closer`);
        if (err === other && err > 0) assert.equal(h & 1, 0, `${x}: tie must go to the even pattern`);
      }
    }
  });
}

test("results do not depend on the thread count", () => {
  const before = getNumThreads();
  const src = f32Patterns(3_000_001);
  const run = (): Uint8Array => {
    const out = new Uint16Array(src.length);
    addon().convert(src, "f32", out, "bf16");
    return bytesOf(out);
  };
  try {
    setNumThreads(1);
    const one = run();
    setNumThreads(2);
    const two = run();
    setNumThreads(3);
    const three = run();
    assert.ok(Buffer.from(one).equals(Buffer.from(two)));
    assert.ok(Buffer.from(one).equals(Buffer.from(three)));
  } finally {
    setNumThreads(before);
  }
});
