// Deterministic mutation fuzzing of the GGUF and safetensors parsers and the ternary decoders.
// Every mutated file must either parse, with every tensor's data view inside the input and of
// the advertised length, or throw exactly the format's error class. Anything else (a RangeError
// from a typed array, a TypeError, running out of memory) fails with the seed and iteration, so
// `fuzzCase(seed, i)` reproduces it.
import { describe, it } from "node:test";
import * as assert from "node:assert/strict";

import {
  GGUFFormatError,
  GGUFValue,
  SafetensorsFormatError,
  decodeI2S,
  decodeTQ1_0Ternary,
  decodeTQ2_0Ternary,
  dequantizeGGML,
  encodeF16,
  encodeF32,
  encodeGGUF,
  encodeI2S,
  encodeTQ2_0,
  ggmlTypeInfo,
  parseGGUF,
  parseSafetensors,
} from "../../src/io";
import { unpackTernary } from "../../src/quant";

const SEED = 0x5eed_2026;
const ITERATIONS = 10_000;

/** mulberry32: a small, fast, seedable PRNG (uniform 32-bit outputs). */
function rng(seed: number): { u32(): number; int(n: number): number; chance(p: number): boolean } {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { u32, int: (n) => (n <= 0 ? 0 : u32() % n), chance: (p) => u32() / 2 ** 32 < p };
}
type Rng = ReturnType<typeof rng>;

const EXTREME_U64 = [0n, 2n ** 32n - 1n, 2n ** 63n, 2n ** 64n - 1n, 1n, 2n ** 53n, 2n ** 31n];
const EXTREME_U32 = [0, 2 ** 32 - 1, 2 ** 31, 1, 13, 36, 99];

/** Positions of little-endian u64 fields that look like small sizes, counts, dims or offsets. */
function u64Candidates(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = 0; p + 8 <= bytes.length; p++) {
    const v = view.getBigUint64(p, true);
    if (v > 0n && v < 1n << 20n) out.push(p);
  }
  return out;
}

/** Applies 1 to 3 random mutations; `fields` lists positions of u64 fields worth hitting. */
function mutate(r: Rng, base: Uint8Array, fields: number[], text: boolean): Uint8Array {
  let b = base.slice();
  const rounds = 1 + r.int(3);
  for (let round = 0; round < rounds; round++) {
    const kind = r.int(text ? 9 : 8);
    const at = r.int(b.length);
    switch (kind) {
      case 0: // overwrite random bytes
        for (let i = 0, n = 1 + r.int(8); i < n && b.length > 0; i++) b[r.int(b.length)] = r.int(256);
        break;
      case 1: // flip bits
        for (let i = 0, n = 1 + r.int(4); i < n && b.length > 0; i++) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 2: // truncate
        b = b.slice(0, r.int(b.length + 1));
        break;
      case 3: {
        // extend with junk
        const junk = new Uint8Array(1 + r.int(96));
        for (let i = 0; i < junk.length; i++) junk[i] = r.chance(0.5) ? 0 : r.int(256);
        const next = new Uint8Array(b.length + junk.length);
        next.set(b);
        next.set(junk, b.length);
        b = next;
        break;
      }
      case 4:
      case 5: {
        // an extreme u64 (or u32) over a field, or anywhere
        const p = fields.length > 0 && r.chance(0.75) ? fields[r.int(fields.length)] : at;
        const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
        if (kind === 4 && p + 8 <= b.length) view.setBigUint64(p, EXTREME_U64[r.int(EXTREME_U64.length)], true);
        else if (p + 4 <= b.length) view.setUint32(p, EXTREME_U32[r.int(EXTREME_U32.length)], true);
        break;
      }
      case 6: {
        // duplicate a range somewhere
        const start = r.int(b.length);
        const end = Math.min(b.length, start + 1 + r.int(64));
        const dest = r.int(b.length + 1);
        b = Uint8Array.from([...b.subarray(0, dest), ...b.subarray(start, end), ...b.subarray(dest)]);
        break;
      }
      case 7: {
        // delete a range
        const start = r.int(b.length);
        const end = Math.min(b.length, start + 1 + r.int(64));
        b = Uint8Array.from([...b.subarray(0, start), ...b.subarray(end)]);
        break;
      }
      case 8: {
        // (JSON headers) replace a run of digits with an extreme number
        const text8 = Buffer.from(b).toString("latin1");
        const runs = [...text8.matchAll(/\d+/g)];
        if (runs.length === 0) break;
        const run = runs[r.int(runs.length)];
        const extreme = ["0", "4294967295", "9223372036854775808", "18446744073709551615", "9007199254740993", "1e308", "-1", "1.5"][r.int(8)];
        b = Uint8Array.from(Buffer.from(text8.slice(0, run.index) + extreme + text8.slice(run.index! + run[0].length), "latin1"));
        break;
      }
    }
  }
  return b;
}

function fail(format: string, i: number, e: unknown): never {
  const err = e as Error;
  assert.fail(`${format} fuzz: seed ${SEED}, iteration ${i}: ${err?.constructor?.name}: ${err?.message}\n${err?.stack ?? ""}`);
}

function checkView(view: Uint8Array, input: Uint8Array, length: number, what: string): number {
  assert.equal(view.buffer, input.buffer, `${what} is not a view of the input`);
  assert.ok(view.byteOffset >= input.byteOffset && view.byteOffset + view.length <= input.byteOffset + input.length, `${what} lies outside the input`);
  assert.equal(view.length, length, `${what} has the wrong length`);
  let sum = 0;
  for (let i = 0; i < view.length; i++) sum += view[i];
  return sum;
}

function baseGGUF(): Uint8Array {
  const codes = new Int8Array(2 * 128).map((_, i) => (i % 3) - 1);
  const tq = new Float32Array(256).map((_, i) => ((i * 7) % 3) - 1);
  const metadata = new Map<string, GGUFValue>([
    ["general.architecture", { type: "string", value: "bitnet" }],
    ["bitnet.block_count", { type: "u32", value: 2 }],
    ["bitnet.rope.freq_base", { type: "f32", value: 500000 }],
    ["general.file_type", { type: "u32", value: 40 }],
    ["big", { type: "u64", value: 2n ** 60n }],
    ["neg", { type: "i64", value: -3n }],
    ["flag", { type: "bool", value: false }],
    ["tokenizer.ggml.tokens", { type: "array", elementType: "string", value: ["<s>", "a", "bc", "é"] }],
    ["tokenizer.ggml.scores", { type: "array", elementType: "f32", value: Float32Array.of(0, -1, -2, -3) }],
    ["nested", { type: "array", elementType: "array", value: [{ type: "array", elementType: "u16", value: Uint16Array.of(1, 2) }, { type: "array", elementType: "bool", value: [true] }] }],
  ]);
  return Uint8Array.from(
    Buffer.concat(
      encodeGGUF({
        metadata,
        tensors: [
          { name: "token_embd.weight", type: "F16", shape: [4, 8], data: encodeF16(new Float32Array(32).map((_, i) => i / 8)) },
          { name: "blk.0.attn_q.weight", type: "I2_S", shape: [2, 128], data: encodeI2S(codes, 2, 128, 0.25) },
          { name: "blk.0.ffn_up.weight", type: "TQ2_0", shape: [1, 256], data: encodeTQ2_0(tq) },
          { name: "output_norm.weight", type: "F32", shape: [8], data: encodeF32(new Float32Array(8).fill(1)) },
          { name: "blk.0.ffn_down.weight", type: "TQ1_0", shape: [1, 256], data: new Uint8Array(54).fill(128) },
        ],
      }),
    ),
  );
}

function baseSafetensors(): Uint8Array {
  const json =
    '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},' +
    '"b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]},"c":{"dtype":"I8","shape":[5],"data_offsets":[32,37]},' +
    '"d":{"dtype":"U8","shape":[0],"data_offsets":[37,37]}}';
  const header = Buffer.from(json + " ".repeat((8 - (json.length % 8)) % 8));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  const data = Buffer.from(Array.from({ length: 37 }, (_, i) => (i * 37) & 0xff));
  return Uint8Array.from(Buffer.concat([size, header, data]));
}

describe("parser fuzzing", () => {
  it(`GGUF: ${ITERATIONS} mutated files parse cleanly or throw GGUFFormatError`, () => {
    const base = baseGGUF();
    const f = parseGGUF(base);
    assert.equal(f.tensors.length, 5);
    const fields = [8, 16, ...u64Candidates(base)];
    let parsed = 0;
    let decoded = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const r = rng(SEED + i);
      const bytes = mutate(r, base, fields, false);
      let file;
      try {
        file = parseGGUF(bytes, "fuzz.gguf");
      } catch (e) {
        if (e instanceof GGUFFormatError && /^parseGGUF: 'fuzz\.gguf': /.test(e.message)) continue;
        fail("GGUF", i, e);
      }
      parsed++;
      try {
        for (const v of file.metadata.values()) assert.ok(v.type.length > 0);
        for (const t of file.tensors) {
          checkView(t.data, bytes, t.byteLength, `tensor '${t.name}'`);
          assert.ok(t.data.byteOffset - bytes.byteOffset >= file.dataOffset + t.offset);
          if (!ggmlTypeInfo(t.type)!.decodable) continue;
          try {
            const values = dequantizeGGML(t.type, t.data, t.shape, t.name);
            assert.equal(values.length, t.shape.reduce((a, b) => a * b, 1));
            decoded++;
          } catch (e) {
            if (!(e instanceof GGUFFormatError)) throw e;
          }
        }
      } catch (e) {
        fail("GGUF", i, e);
      }
    }
    // The mutations must exercise both outcomes.
    assert.ok(parsed > ITERATIONS / 50, `only ${parsed} mutated files parsed`);
    assert.ok(parsed < ITERATIONS, "no mutated file was rejected");
    assert.ok(decoded > 0);
    console.log(`GGUF fuzz: ${parsed} of ${ITERATIONS} mutated files parsed, ${decoded} tensors decoded`);
  });

  it(`safetensors: ${ITERATIONS} mutated files parse cleanly or throw SafetensorsFormatError`, () => {
    const base = baseSafetensors();
    assert.equal(parseSafetensors(base).data.size, 4);
    let parsed = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const r = rng(SEED ^ (0x9e3779b9 + i));
      const bytes = mutate(r, base, [0], true);
      let result;
      try {
        result = parseSafetensors(bytes, "fuzz.safetensors");
      } catch (e) {
        if (e instanceof SafetensorsFormatError && /^parseSafetensors: 'fuzz\.safetensors': /.test(e.message)) continue;
        fail("safetensors", i, e);
      }
      parsed++;
      try {
        for (const [name, info] of result.header.tensors) {
          const view: Uint8Array = result.data.get(name)!;
          checkView(view, bytes, info.dataOffsets[1] - info.dataOffsets[0], `tensor '${name}'`);
          assert.equal(view.byteOffset - bytes.byteOffset, result.header.dataStart + info.dataOffsets[0]);
        }
        assert.equal(result.header.dataStart + result.header.dataBytes, bytes.length);
      } catch (e) {
        fail("safetensors", i, e);
      }
    }
    // The format demands the tensors tile the data buffer, so few mutations survive; some must.
    assert.ok(parsed > 20, `only ${parsed} mutated files parsed`);
    assert.ok(parsed < ITERATIONS, "no mutated file was rejected");
  });
});

describe("decoder fuzzing", () => {
  it("TQ2_0, TQ1_0 and I2_S decode random bytes of valid length or throw GGUFFormatError", () => {
    const r = rng(SEED + 77);
    const random = (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      // Mostly valid codes (so whole tensors decode), sometimes any byte.
      const anything = r.chance(0.5);
      for (let i = 0; i < n; i++) b[i] = anything ? r.int(256) : [0x00, 0x55, 0xaa, 0x15, 0x96][r.int(5)];
      return b;
    };
    let ok = 0;
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const blocks = 1 + r.int(4);
      try {
        const tq2 = decodeTQ2_0Ternary(random(blocks * 66), blocks * 256);
        assert.ok(tq2.codes.every((c) => c >= -1 && c <= 1));
        ok++;
      } catch (e) {
        if (!(e instanceof GGUFFormatError)) fail("TQ2_0", i, e);
        rejected++;
      }
      try {
        const tq1 = decodeTQ1_0Ternary(random(blocks * 54), blocks * 256);
        assert.ok(tq1.codes.every((c) => c >= -1 && c <= 1));
      } catch (e) {
        fail("TQ1_0", i, e);
      }
      const n = 1 + r.int(3);
      const k = 128 * (1 + r.int(3));
      const bytes = random((n * k) / 4 + 32);
      if (r.chance(0.7)) new DataView(bytes.buffer).setFloat32((n * k) / 4, 0.5 + r.int(100), true);
      try {
        const { packed } = decodeI2S(bytes, n, k);
        try {
          const codes = unpackTernary(packed);
          assert.equal(codes.numel, n * k);
          codes.dispose();
        } finally {
          packed.dispose();
        }
        ok++;
      } catch (e) {
        if (!(e instanceof GGUFFormatError)) fail("I2_S", i, e);
        rejected++;
      }
    }
    assert.ok(ok > 100 && rejected > 100, `ok ${ok}, rejected ${rejected}`);
  });
});
