// GGUF files and ggml codecs: a golden file written byte by byte from the format description
// against writeGGUF's output, round trips of every metadata value type, the I2_S / TQ2_0 / TQ1_0
// bit layouts checked by hand, and every class of malformed file failing with GGUFFormatError.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  GGUFFormatError,
  GGUFValue,
  GGML_TYPE,
  decodeBF16,
  decodeF16,
  decodeI2S,
  decodeQ8_0,
  decodeTQ1_0,
  decodeTQ1_0Ternary,
  decodeTQ2_0,
  decodeTQ2_0Ternary,
  dequantizeGGML,
  encodeBF16,
  encodeF16,
  encodeF32,
  encodeGGUF,
  encodeI2S,
  encodeTQ2_0,
  ggmlTensorBytes,
  ggufArray,
  ggufBool,
  ggufNumber,
  ggufString,
  ggufTensor,
  parseGGUF,
  readGGUF,
  writeGGUF,
} from "../../src/io";
import { unpackTernary } from "../../src/quant";
import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from "../../src/tensor/half";
import { memoryStats } from "../../src/tensor/storage";

let dir = "";
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-gguf-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
const freshPath = (): string => path.join(dir, `${fileCount++}.gguf`);

/** Little-endian bytes written by hand, independent of the code under test. */
class Bytes {
  readonly a: number[] = [];
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.a.push(bytes[i]);
    return this;
  }
  private buf(n: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(n);
    write(b);
    return this.raw(b);
  }
  u8(v: number): this {
    return this.raw([v]);
  }
  u16(v: number): this {
    return this.buf(2, (b) => b.writeUInt16LE(v));
  }
  u32(v: number): this {
    return this.buf(4, (b) => b.writeUInt32LE(v));
  }
  i32(v: number): this {
    return this.buf(4, (b) => b.writeInt32LE(v));
  }
  u64(v: number | bigint): this {
    return this.buf(8, (b) => b.writeBigUInt64LE(BigInt(v)));
  }
  f32(v: number): this {
    return this.buf(4, (b) => b.writeFloatLE(v));
  }
  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.u64(b.length).raw(b);
  }
  padTo(n: number): this {
    while (this.a.length % n !== 0) this.a.push(0);
    return this;
  }
  get length(): number {
    return this.a.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.a);
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

function hex(b: ArrayLike<number>): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

function throwsFormat(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GGUFFormatError, `expected GGUFFormatError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    assert.match(e.message, re);
    return true;
  });
}

// ---- The golden file: 6 key-value pairs, one tensor of each of F32, F16, BF16, I2_S, TQ2_0.

// I2_S [1, 128]: w[0] = +1, w[32] = -1, w[64] = 0, w[96] = +1, w[127] = -1, all else 0.
// Byte j holds w[j], w[j+32], w[j+64], w[j+96] at bits 6, 4, 2, 0 (code = w + 1):
// byte 0 = 2<<6 | 0<<4 | 1<<2 | 2 = 0x86; byte 31 = 1<<6 | 1<<4 | 1<<2 | 0 = 0x54; others 0x55.
const I2S_CODES = new Int8Array(128);
I2S_CODES[0] = 1;
I2S_CODES[32] = -1;
I2S_CODES[96] = 1;
I2S_CODES[127] = -1;
const I2S_BYTES = [0x86, ...new Array(30).fill(0x55), 0x54, 0x00, 0x00, 0x00, 0x3f /* f32 0.5 */, ...new Array(28).fill(0)];

// TQ2_0 [1, 256], d = 0.5: x[0] = 0.5, x[32] = -0.5, x[96] = 0.5, x[255] = -0.5, all else 0.
// Byte m of each 32-byte chunk holds elements m + 32n at bits 2n: byte 0 = 2 | 0<<2 | 1<<4 | 2<<6
// = 0x92; byte 63 (chunk 1, m = 31) holds 159, 191, 223, 255: 1 | 1<<2 | 1<<4 | 0<<6 = 0x15.
const TQ2_VALUES = new Float32Array(256);
TQ2_VALUES[0] = 0.5;
TQ2_VALUES[32] = -0.5;
TQ2_VALUES[96] = 0.5;
TQ2_VALUES[255] = -0.5;
const TQ2_BYTES = [0x92, ...new Array(62).fill(0x55), 0x15, 0x00, 0x38 /* f16 0.5 = 0x3800 */];

function goldenBytes(): Uint8Array {
  const b = new Bytes()
    .raw([0x47, 0x47, 0x55, 0x46]) // "GGUF"
    .u32(3) // version
    .u64(5) // tensors
    .u64(6) // key-value pairs
    .str("general.architecture")
    .u32(8)
    .str("bitnet")
    .str("bitnet.block_count")
    .u32(4)
    .u32(1)
    .str("bitnet.rope.freq_base")
    .u32(6)
    .f32(500000)
    .str("general.quantized")
    .u32(7)
    .u8(1)
    .str("tokenizer.ggml.tokens")
    .u32(9)
    .u32(8)
    .u64(2)
    .str("a")
    .str("bc")
    .str("tokenizer.ggml.token_type")
    .u32(9)
    .u32(5)
    .u64(3)
    .i32(1)
    .i32(-1)
    .i32(3)
    // tensor infos: name, n_dims, ne (innermost first), type, offset
    .str("f32").u32(1).u64(2).u32(0).u64(0)
    .str("f16").u32(1).u64(2).u32(1).u64(32)
    .str("bf16").u32(1).u64(2).u32(30).u64(64)
    .str("i2s").u32(2).u64(128).u64(1).u32(36).u64(96)
    .str("tq2").u32(2).u64(256).u64(1).u32(35).u64(160)
    .padTo(32);
  b.raw([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0]).padTo(32); // F32 1, -2
  b.raw([0x00, 0x3c, 0x00, 0xc0]).padTo(32); // F16 1 (0x3c00), -2 (0xc000)
  b.raw([0x80, 0x3f, 0x00, 0xc0]).padTo(32); // BF16 1 (0x3f80), -2 (0xc000)
  b.raw(I2S_BYTES).padTo(32);
  b.raw(TQ2_BYTES).padTo(32);
  return b.bytes();
}

function goldenSpec() {
  const metadata = new Map<string, GGUFValue>([
    ["general.architecture", { type: "string", value: "bitnet" }],
    ["bitnet.block_count", { type: "u32", value: 1 }],
    ["bitnet.rope.freq_base", { type: "f32", value: 500000 }],
    ["general.quantized", { type: "bool", value: true }],
    ["tokenizer.ggml.tokens", { type: "array", elementType: "string", value: ["a", "bc"] }],
    ["tokenizer.ggml.token_type", { type: "array", elementType: "i32", value: Int32Array.of(1, -1, 3) }],
  ]);
  const pair = Float32Array.of(1, -2);
  return {
    metadata,
    tensors: [
      { name: "f32", type: "F32" as const, shape: [2], data: encodeF32(pair) },
      { name: "f16", type: "F16" as const, shape: [2], data: encodeF16(pair) },
      { name: "bf16", type: "BF16" as const, shape: [2], data: encodeBF16(pair) },
      { name: "i2s", type: "I2_S" as const, shape: [1, 128], data: encodeI2S(I2S_CODES, 1, 128, 0.5) },
      { name: "tq2", type: "TQ2_0" as const, shape: [1, 256], data: encodeTQ2_0(TQ2_VALUES) },
    ],
  };
}

describe("GGUF golden file", () => {
  it("the hand-written header starts as the format says", () => {
    const g = goldenBytes();
    assert.equal(hex(g.subarray(0, 24)), "47 47 55 46 03 00 00 00 05 00 00 00 00 00 00 00 06 00 00 00 00 00 00 00");
    assert.equal(g.length % 32, 0);
  });

  it("encodeGGUF and writeGGUF produce it byte for byte", () => {
    const golden = goldenBytes();
    const encoded = concat(encodeGGUF(goldenSpec()));
    assert.equal(encoded.length, golden.length);
    for (let i = 0; i < golden.length; i++) assert.equal(encoded[i], golden[i], `byte ${i}`);
    const p = freshPath();
    writeGGUF(p, goldenSpec());
    assert.deepEqual(new Uint8Array(fs.readFileSync(p)), golden);
    // Tensor data goes out as the caller's arrays, not copies.
    const spec = goldenSpec();
    const chunks = encodeGGUF(spec);
    assert.ok(chunks.includes(spec.tensors[3].data));
  });

  it("parses back with every field, data as views of the bytes", () => {
    const golden = goldenBytes();
    const f = parseGGUF(golden);
    assert.equal(f.name, "<buffer>");
    assert.equal(f.version, 3);
    assert.equal(f.alignment, 32);
    assert.equal(f.dataOffset, golden.length - 256);
    assert.deepEqual([...f.metadata.keys()], [...goldenSpec().metadata.keys()]);
    assert.deepEqual(f.metadata, goldenSpec().metadata);
    assert.equal(ggufString(f, "general.architecture"), "bitnet");
    assert.equal(ggufNumber(f, "bitnet.block_count"), 1);
    assert.equal(ggufNumber(f.metadata, "bitnet.rope.freq_base"), 500000);
    assert.equal(ggufBool(f, "general.quantized"), true);
    assert.deepEqual(ggufArray(f, "tokenizer.ggml.tokens", "string"), ["a", "bc"]);
    assert.deepEqual(ggufArray(f, "tokenizer.ggml.token_type", "i32"), Int32Array.of(1, -1, 3));
    assert.deepEqual(
      f.tensors.map((t) => [t.name, t.type, t.typeName, t.shape, t.ne, t.offset, t.byteLength]),
      [
        ["f32", 0, "F32", [2], [2], 0, 8],
        ["f16", 1, "F16", [2], [2], 32, 4],
        ["bf16", 30, "BF16", [2], [2], 64, 4],
        ["i2s", 36, "I2_S", [1, 128], [128, 1], 96, 64],
        ["tq2", 35, "TQ2_0", [1, 256], [256, 1], 160, 66],
      ],
    );
    for (const t of f.tensors) {
      assert.equal(t.data.buffer, golden.buffer, `${t.name} is a view`);
      assert.equal(t.data.byteOffset, f.dataOffset + t.offset);
    }
    assert.deepEqual([...ggufTensor(f, "i2s").data], I2S_BYTES);
    assert.deepEqual([...ggufTensor(f, "tq2").data], TQ2_BYTES);
    for (const name of ["f32", "f16", "bf16"]) assert.deepEqual(dequantizeGGML(ggufTensor(f, name).type, ggufTensor(f, name).data, [2]), Float32Array.of(1, -2));
    const i2s = dequantizeGGML(GGML_TYPE.I2_S, ggufTensor(f, "i2s").data, [1, 128]);
    assert.deepEqual(i2s, Float32Array.from(I2S_CODES, (c) => c * 0.5));
    assert.deepEqual(dequantizeGGML("TQ2_0", ggufTensor(f, "tq2").data, [1, 256]), TQ2_VALUES);
  });

  it("readGGUF reads the file and names it in errors", () => {
    const p = freshPath();
    fs.writeFileSync(p, goldenBytes());
    const f = readGGUF(p);
    assert.equal(f.name, p);
    assert.equal(f.tensors.length, 5);
    assert.equal(f.tensors[0].data.byteOffset, f.dataOffset, "the file's buffer starts at byte 0 of its ArrayBuffer");
    const bad = goldenBytes();
    bad[0] = 0x58;
    fs.writeFileSync(p, bad);
    throwsFormat(() => readGGUF(p), new RegExp(`^readGGUF: '${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}': bad magic`));
    assert.throws(() => readGGUF(path.join(dir, "missing.gguf")), /readGGUF: cannot read '.*missing\.gguf': no such file or directory \(ENOENT\)/);
    assert.throws(() => readGGUF(dir), /cannot read .*: it is a directory/);
    assert.throws(() => ggufTensor(f, "nope"), /ggufTensor: '.*': the file has no tensor 'nope'/);
  });

  it("typed getters name the key and the expected type", () => {
    const f = parseGGUF(goldenBytes(), "model.gguf");
    throwsFormat(() => ggufString(f, "missing.key"), /^ggufString: 'model\.gguf': key 'missing\.key' is missing \(expected a string\)/);
    throwsFormat(() => ggufString(f, "bitnet.block_count"), /key 'bitnet\.block_count' is u32 1, expected a string/);
    throwsFormat(() => ggufNumber(f, "general.architecture"), /is the string "bitnet", expected a number/);
    throwsFormat(() => ggufBool(f.metadata, "bitnet.block_count"), /^ggufBool: key 'bitnet\.block_count' is u32 1, expected a bool/);
    throwsFormat(() => ggufArray(f, "tokenizer.ggml.tokens", "f32"), /is an array of 2 string, expected an array of f32/);
    const big = new Map<string, GGUFValue>([["n", { type: "u64", value: 2n ** 53n }]]);
    throwsFormat(() => ggufNumber(big, "n"), /u64 9007199254740992, beyond the integers a number holds exactly/);
    assert.equal(ggufNumber(new Map<string, GGUFValue>([["n", { type: "i64", value: -5n }]]), "n"), -5);
  });
});

describe("GGUF metadata round trips", () => {
  const all = new Map<string, GGUFValue>([
    ["u8", { type: "u8", value: 255 }],
    ["i8", { type: "i8", value: -128 }],
    ["u16", { type: "u16", value: 65535 }],
    ["i16", { type: "i16", value: -32768 }],
    ["u32", { type: "u32", value: 4294967295 }],
    ["i32", { type: "i32", value: -2147483648 }],
    ["f32", { type: "f32", value: Math.fround(-3.14159) }],
    ["f32.inf", { type: "f32", value: -Infinity }],
    ["bool.false", { type: "bool", value: false }],
    ["bool.true", { type: "bool", value: true }],
    ["string", { type: "string", value: "héllo ✓ 🚀" }],
    ["string.empty", { type: "string", value: "" }],
    ["u64.max", { type: "u64", value: 2n ** 64n - 1n }],
    ["u64.above.2^53", { type: "u64", value: 2n ** 53n + 1n }],
    ["i64.min", { type: "i64", value: -(2n ** 63n) }],
    ["i64.max", { type: "i64", value: 2n ** 63n - 1n }],
    ["f64", { type: "f64", value: Math.PI }],
    ["f64.tiny", { type: "f64", value: 5e-324 }],
    ["a.u8", { type: "array", elementType: "u8", value: Uint8Array.of(0, 1, 255) }],
    ["a.i8", { type: "array", elementType: "i8", value: Int8Array.of(-128, 127) }],
    ["a.u16", { type: "array", elementType: "u16", value: Uint16Array.of(0, 65535) }],
    ["a.i16", { type: "array", elementType: "i16", value: Int16Array.of(-32768, 32767) }],
    ["a.u32", { type: "array", elementType: "u32", value: Uint32Array.of(4294967295) }],
    ["a.i32", { type: "array", elementType: "i32", value: Int32Array.of(-2147483648, 7) }],
    ["a.f32", { type: "array", elementType: "f32", value: Float32Array.of(0.1, -0, Infinity) }],
    ["a.f64", { type: "array", elementType: "f64", value: Float64Array.of(0.1, -1e300) }],
    ["a.u64", { type: "array", elementType: "u64", value: BigUint64Array.of(2n ** 64n - 1n, 2n ** 53n + 3n) }],
    ["a.i64", { type: "array", elementType: "i64", value: BigInt64Array.of(-(2n ** 63n), 2n ** 60n) }],
    ["a.bool", { type: "array", elementType: "bool", value: [true, false, true] }],
    ["a.string", { type: "array", elementType: "string", value: ["", "x", "日本"] }],
    ["a.empty", { type: "array", elementType: "f32", value: new Float32Array(0) }],
    // Metadata far larger than the writer's first buffer (4 KiB), so it grows several times.
    ["a.many", { type: "array", elementType: "string", value: Array.from({ length: 3000 }, (_, i) => `Ġtoken${i}`) }],
    ["string.long", { type: "string", value: "x".repeat(20000) + "✓" }],
    ["a.scores", { type: "array", elementType: "f32", value: Float32Array.from({ length: 5000 }, (_, i) => -i / 7) }],
    [
      "a.nested",
      {
        type: "array",
        elementType: "array",
        value: [
          { type: "array", elementType: "u64", value: BigUint64Array.of(2n ** 64n - 1n) },
          { type: "array", elementType: "string", value: ["deep"] },
          { type: "array", elementType: "array", value: [{ type: "array", elementType: "bool", value: [false] }] },
        ],
      },
    ],
  ]);

  it("every value type comes back with its type and exact value, and re-encodes to the same bytes", () => {
    const bytes = concat(encodeGGUF({ metadata: all }));
    const f = parseGGUF(bytes);
    assert.deepEqual(f.metadata, all);
    assert.deepEqual([...f.metadata.keys()], [...all.keys()]);
    const u64 = f.metadata.get("u64.above.2^53")!;
    assert.equal(u64.type, "u64");
    assert.equal(u64.value, 9007199254740993n);
    assert.ok(Object.is((f.metadata.get("a.f32")!.value as Float32Array)[1], -0));
    assert.deepEqual(concat(encodeGGUF({ metadata: f.metadata })), bytes);
    assert.equal(f.tensors.length, 0);
  });

  it("a plain object keeps its key order; alignment is written as general.alignment", () => {
    const bytes = concat(encodeGGUF({ metadata: { b: { type: "u8", value: 1 }, a: { type: "u8", value: 2 } }, alignment: 64, tensors: [{ name: "t", type: "F32", shape: [3], data: new Uint8Array(12) }] }));
    const f = parseGGUF(bytes);
    assert.deepEqual([...f.metadata.keys()], ["b", "a", "general.alignment"]);
    assert.deepEqual(f.metadata.get("general.alignment"), { type: "u32", value: 64 });
    assert.equal(f.alignment, 64);
    assert.equal(f.dataOffset % 64, 0);
    assert.equal(bytes.length, f.dataOffset + 64);
  });

  it("bad values are refused on write, naming the key", () => {
    const enc = (metadata: Record<string, unknown>) => () => encodeGGUF({ metadata: metadata as Record<string, GGUFValue> });
    assert.throws(enc({ k: { type: "u8", value: 256 } }), /encodeGGUF: metadata 'k' must be an integer in \[0, 255\] for type u8, received 256/);
    assert.throws(enc({ k: { type: "i32", value: 1.5 } }), /metadata 'k' must be an integer/);
    assert.throws(enc({ k: { type: "u64", value: 5 } }), /metadata 'k' must be a bigint in \[0, 18446744073709551615\]/);
    assert.throws(enc({ k: { type: "u64", value: 2n ** 64n } }), /must be a bigint/);
    assert.throws(enc({ k: { type: "i64", value: -(2n ** 63n) - 1n } }), /must be a bigint/);
    assert.throws(enc({ k: { type: "string", value: "\ud800" } }), /lone UTF-16 surrogate/);
    assert.throws(enc({ k: { type: "bool", value: 1 } }), /must be a boolean/);
    assert.throws(enc({ k: { type: "float", value: 1 } }), /the type of metadata 'k' must be one of u8, i8/);
    assert.throws(enc({ k: { type: "array", elementType: "f32", value: [1, 2] } }), /so its value must be a Float32Array, received an array of length 2/);
    assert.throws(enc({ k: { type: "array", elementType: "u8", value: [1] } }), /so its value must be a Uint8Array/);
    assert.throws(enc({ k: { type: "array", elementType: "string", value: ["a", 3] } }), /element 1 of metadata 'k' must be a string/);
    let deep: unknown = { type: "array", elementType: "u8", value: new Uint8Array(0) };
    for (let i = 0; i < 8; i++) deep = { type: "array", elementType: "array", value: [deep] };
    assert.throws(enc({ k: deep }), /nests arrays more than 8 deep/);
    assert.throws(enc({ "general.alignment": { type: "u32", value: 48 } }), /'general.alignment' must be a u32 power of two/);
    assert.throws(() => encodeGGUF({ metadata: { "general.alignment": { type: "u32", value: 64 } }, alignment: 32 }), /alignment 32 disagrees with the metadata's 'general.alignment' 64/);
  });

  it("bad tensors are refused on write, naming the tensor", () => {
    const enc = (t: object) => () => encodeGGUF({ tensors: [t as never] });
    assert.throws(enc({ name: "w", type: "F32", shape: [3], data: new Uint8Array(8) }), /tensor 'w' is F32 \[3\], which takes 12 bytes, but its data has 8/);
    assert.throws(enc({ name: "w", type: "I2_S", shape: [1, 128], data: new Uint8Array(32) }), /tensor 'w' is I2_S \[1, 128\], which takes 64 bytes, but its data has 32/);
    assert.throws(enc({ name: "w", type: "TQ2_0", shape: [100], data: new Uint8Array(66) }), /TQ2_0 stores blocks of 256 elements along the innermost dimension, which is 100/);
    assert.throws(enc({ name: "w", type: "Q9_9", shape: [3], data: new Uint8Array(12) }), /tensor 'w' has unknown ggml type 'Q9_9'/);
    assert.throws(enc({ name: "w", type: "F32", shape: [1, 1, 1, 1, 1], data: new Uint8Array(4) }), /shape of 1 to 4 dimensions/);
    assert.throws(enc({ name: "w", type: "F32", shape: [], data: new Uint8Array(4) }), /shape of 1 to 4 dimensions/);
    assert.throws(enc({ name: "x".repeat(64), type: "F32", shape: [1], data: new Uint8Array(4) }), /64-byte name; ggml takes at most 63/);
    assert.throws(
      () => encodeGGUF({ tensors: [{ name: "a", type: "F32", shape: [1], data: new Uint8Array(4) }, { name: "a", type: "F32", shape: [1], data: new Uint8Array(4) }] }),
      /tensor 'a' appears twice/,
    );
  });
});

describe("lazy tensor data", () => {
  it("data given as functions: the same bytes, each made once in file order; bad results and errors are named", () => {
    const golden = goldenBytes();
    const calls: string[] = [];
    const lazy = () => {
      const spec = goldenSpec();
      return { ...spec, tensors: spec.tensors.map((t) => ({ ...t, data: () => (calls.push(t.name), t.data as Uint8Array) })) };
    };
    const p = freshPath();
    writeGGUF(p, lazy());
    assert.deepEqual(new Uint8Array(fs.readFileSync(p)), golden);
    const names = goldenSpec().tensors.map((t) => t.name);
    assert.deepEqual(calls, names, "one call per tensor, in order");
    calls.length = 0;
    assert.deepEqual(concat(encodeGGUF(lazy())), golden);
    assert.deepEqual(calls, names);

    const one = (data: () => unknown) => ({ tensors: [{ name: "w", type: "F32" as const, shape: [3], data: data as () => Uint8Array }] });
    const target = freshPath();
    assert.throws(() => writeGGUF(target, one(() => new Uint8Array(8))), { name: "RangeError", message: "writeGGUF: the data function of tensor 'w' returned 8 bytes, expected 12" });
    assert.throws(() => encodeGGUF(one(() => [1, 2, 3])), { name: "TypeError", message: "encodeGGUF: the data function of tensor 'w' must return a Uint8Array, returned an array of length 3" });
    const boom = new Error("conversion failed");
    assert.throws(() => writeGGUF(target, one(() => { throw boom; })), (e) => e === boom);
    assert.equal(fs.existsSync(target), false);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")), [], "no temporary file is left");
    assert.throws(() => encodeGGUF({ tensors: [{ name: "w", type: "F32", shape: [1], data: 5 as unknown as Uint8Array }] }), { name: "TypeError", message: /tensor 'w' data must be a Uint8Array or a function returning one, received 5/ });
  });
});

describe("ggml type sizes", () => {
  it("ggmlTensorBytes follows the block sizes", () => {
    assert.equal(ggmlTensorBytes("F32", [3, 5]), 60);
    assert.equal(ggmlTensorBytes("BF16", [7]), 14);
    assert.equal(ggmlTensorBytes("Q8_0", [2, 64]), 2 * 2 * 34);
    assert.equal(ggmlTensorBytes("TQ2_0", [3, 512]), 6 * 66);
    assert.equal(ggmlTensorBytes("TQ1_0", [256]), 54);
    assert.equal(ggmlTensorBytes("Q4_K", [256]), 144);
    assert.equal(ggmlTensorBytes(GGML_TYPE.I2_S, [2560, 6912]), (2560 * 6912) / 4 + 32);
    assert.throws(() => ggmlTensorBytes("Q8_0", [33]), /RangeError|Q8_0 stores blocks of 32/);
    assert.throws(() => ggmlTensorBytes(99 as never, [1]), /unknown ggml type 99/);
  });
});

describe("I2_S codec", () => {
  /** I2_S bytes of an [n, k] matrix computed from the layout rules, one weight at a time. */
  function i2sByRule(codes: Int8Array, n: number, k: number, scale: number): number[] {
    const out = new Array((n * k) / 4 + 32).fill(0);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < k; c++) {
        const block = r * (k / 128) + Math.floor(c / 128);
        const within = c % 128;
        const byte = block * 32 + (within % 32);
        const shift = 6 - 2 * Math.floor(within / 32);
        out[byte] |= (codes[r * k + c] + 1) << shift;
      }
    }
    const s = Buffer.alloc(4);
    s.writeFloatLE(scale);
    out.splice((n * k) / 4, 4, ...s);
    return out;
  }

  it("packs a hand-made [2, 128] matrix byte by byte", () => {
    // Row 0: weight j = +1 for j < 32, 0 for 32..63, -1 for 64..95, +1 for 96..127, so every
    // byte is 2<<6 | 1<<4 | 0<<2 | 2 = 0x92. Row 1: weight j = (j % 3) - 1.
    const codes = new Int8Array(256);
    for (let j = 0; j < 128; j++) codes[j] = j < 32 ? 1 : j < 64 ? 0 : j < 96 ? -1 : 1;
    for (let j = 0; j < 128; j++) codes[128 + j] = (j % 3) - 1;
    const bytes = encodeI2S(codes, 2, 128, 0.75);
    assert.equal(bytes.length, 2 * 128 / 4 + 32);
    assert.deepEqual([...bytes.subarray(0, 32)], new Array(32).fill(0x92));
    // Row 1, byte 0: weights 0, 32, 64, 96 -> values -1, 1, 0, -1 -> codes 0, 2, 1, 0 = 0x24.
    assert.equal(bytes[32], 0x24);
    // Byte 1: weights 1, 33, 65, 97 -> 0, -1, 1, 0 -> codes 1, 0, 2, 1 = 0x49.
    assert.equal(bytes[33], 0x49);
    assert.deepEqual([...bytes.subarray(64, 68)], [0x00, 0x00, 0x40, 0x3f]); // f32 0.75
    assert.deepEqual([...bytes.subarray(68)], new Array(28).fill(0));
    assert.deepEqual([...bytes], i2sByRule(codes, 2, 128, 0.75));
  });

  it("blocks run along each row for k = 384, and decode is zero-copy and exact", () => {
    const n = 3;
    const k = 384;
    const codes = new Int8Array(n * k);
    let s = 12345;
    for (let i = 0; i < codes.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      codes[i] = (s >>> 16) % 3 - 1;
    }
    const bytes = encodeI2S(codes, n, k, 0.0123);
    assert.deepEqual([...bytes], i2sByRule(codes, n, k, 0.0123));
    const before = memoryStats().liveTensors;
    const { packed, scale } = decodeI2S(bytes, n, k, "blk.0.ffn_up.weight");
    assert.equal(scale, Math.fround(0.0123));
    assert.equal(packed.layout, "i2s");
    assert.deepEqual(packed.shape, [n, k]);
    const view = packed.data.data();
    assert.equal(view.buffer, bytes.buffer, "the codes are a view of the given bytes");
    assert.equal(view.length, (n * k) / 4);
    assert.equal(packed.scale.data()[0], scale);
    const unpacked = unpackTernary(packed);
    assert.deepEqual(unpacked.data(), codes);
    unpacked.dispose();
    packed.dispose();
    assert.equal(memoryStats().liveTensors, before);
  });

  it("rejects bad input with a named error", () => {
    const bytes = encodeI2S(new Int8Array(256), 2, 128, 1);
    throwsFormat(() => decodeI2S(bytes.subarray(0, 64), 2, 128, "w"), /^decodeI2S: 'w': I2_S data of \[2, 128\] takes 96 bytes, received 64/);
    throwsFormat(() => decodeI2S(new Uint8Array(64 / 2 + 32), 1, 64, "w"), /'w': I2_S rows of 64 weights are not a whole number of 128-weight blocks/);
    const zero = bytes.slice();
    zero.fill(0, 64, 68);
    throwsFormat(() => decodeI2S(zero, 2, 128, "w"), /'w': the I2_S scale is 0, expected a finite positive number/);
    const nan = bytes.slice();
    new DataView(nan.buffer).setFloat32(64, NaN, true);
    throwsFormat(() => decodeI2S(nan, 2, 128, "w"), /the I2_S scale is NaN/);
    const bad = bytes.slice();
    bad[32 + 5] = 0x55 | 0x0c; // row 1, byte 5: bits 2-3 (weight 5 + 64) set to 3
    throwsFormat(() => decodeI2S(bad, 2, 128, "w"), /'w': weight \[1, 69\] \(byte 37, bits 2-3\) has the code 3/);
    assert.throws(() => encodeI2S(new Int8Array(100), 1, 100, 1), /k must be a multiple of 128/);
    assert.throws(() => encodeI2S(Int8Array.of(...new Array(127).fill(0), 2), 1, 128, 1), /codes\[127\] \(row 0, column 127\) is 2, expected -1, 0 or 1/);
    assert.throws(() => encodeI2S(new Int8Array(128), 1, 128, 0), /scale must be a finite positive number/);
    assert.throws(() => encodeI2S(new Int8Array(128), 1, 128, Infinity), /scale must be a finite positive number/);
  });
});

describe("TQ2_0 and TQ1_0 codecs", () => {
  it("TQ2_0: one block by hand", () => {
    assert.deepEqual([...encodeTQ2_0(TQ2_VALUES)], TQ2_BYTES);
    const { codes, scales } = decodeTQ2_0Ternary(Uint8Array.from(TQ2_BYTES), 256, "t");
    assert.deepEqual(scales, Float32Array.of(0.5));
    assert.deepEqual(codes, Int8Array.from(TQ2_VALUES, (v) => v * 2));
    assert.deepEqual(decodeTQ2_0(Uint8Array.from(TQ2_BYTES), 256), TQ2_VALUES);
  });

  it("TQ2_0: d is the block absmax in f16, q = round(x / d) with halves away from zero", () => {
    const x = new Float32Array(512);
    x[0] = 3; // block 0: d = 3
    x[1] = 1.5; // 0.5 -> 1
    x[2] = -1.5; // -0.5 -> -1
    x[3] = 1.49; // -> 0
    x[256] = -0.1; // block 1: d = 0.1 (rounded to f16)
    x[257] = 0.05; // f32: 0.05 * (1 / 0.1) is exactly 0.5, which rounds away from zero to 1
    const bytes = encodeTQ2_0(x);
    assert.equal(bytes.length, 132);
    const { codes, scales } = decodeTQ2_0Ternary(bytes, 512);
    assert.deepEqual([...codes.subarray(0, 4)], [1, 1, -1, 0]);
    assert.equal(codes[256], -1);
    assert.equal(codes[257], 1);
    assert.equal(scales[0], 3);
    assert.equal(scales[1], f16BitsToNumber(numberToF16Bits(0.1)));
    // Byte 0 of block 0 holds elements 0, 32, 64, 96: codes 2, 1, 1, 1 -> 2 | 1<<2 | 1<<4 | 1<<6.
    assert.equal(bytes[0], 0x56);
    assert.deepEqual([...bytes.subarray(64, 66)], [0x00, 0x42]); // f16 3 = 0x4200
    const zeros = encodeTQ2_0(new Float32Array(256));
    assert.deepEqual([...zeros], [...new Array(64).fill(0x55), 0, 0]);
    assert.throws(() => encodeTQ2_0(new Float32Array(100)), /multiple of 256/);
    assert.throws(() => encodeTQ2_0(Float32Array.of(NaN, ...new Array(255).fill(0))), /values\[0\] is NaN/);
    const bad = bytes.slice();
    bad[40] |= 0x30; // block 0, chunk 1, byte m = 8, bits 4-5: element 128 + 8 + 64 = 200
    throwsFormat(() => decodeTQ2_0(bad, 512, "blk.0.attn_q.weight"), /'blk\.0\.attn_q\.weight': element 200 \(block 0, byte 40, bits 4-5\) has the code 3/);
    throwsFormat(() => decodeTQ2_0(bytes, 256, "w"), /TQ2_0 data of 256 elements takes 66 bytes, received 132/);
  });

  it("TQ1_0: a hand-built block", () => {
    // Five trits a byte, first trit most significant, stored as ceil(v * 256 / 243):
    // qs[0]: elements 0, 32, 64, 96, 128 = +1, -1, 0, +1, 0 -> trits 2, 0, 1, 2, 1 -> v = 178 -> 188.
    // qs[32]: elements 160, 176, 192, 208, 224 = -1, +1, 0, 0, 0 -> 0, 2, 1, 1, 1 -> v = 67 -> 71.
    // qh[0]: elements 240, 244, 248, 252 = +1, 0, -1, +1 -> 2, 1, 0, 2, shifted one trit -> v = 195 -> 206.
    // All other elements 0: qs bytes v = 121 -> 128, qh bytes v = 120 -> 127. d = 0.25 (f16 0x3400).
    const block = new Uint8Array(54);
    block.fill(128, 0, 48);
    block.fill(127, 48, 52);
    block[0] = 188;
    block[32] = 71;
    block[48] = 206;
    block[52] = 0x00;
    block[53] = 0x34;
    const expected = new Int8Array(256);
    Object.entries({ 0: 1, 32: -1, 96: 1, 160: -1, 176: 1, 240: 1, 248: -1, 252: 1 }).forEach(([i, v]) => (expected[Number(i)] = v));
    const { codes, scales } = decodeTQ1_0Ternary(block, 256);
    assert.deepEqual(codes, expected);
    assert.deepEqual(scales, Float32Array.of(0.25));
    assert.deepEqual(decodeTQ1_0(block, 256), Float32Array.from(expected, (c) => c * 0.25));
    assert.deepEqual(dequantizeGGML("TQ1_0", block, [1, 256]), Float32Array.from(expected, (c) => c * 0.25));
    throwsFormat(() => decodeTQ1_0(block.subarray(0, 53), 256, "w"), /TQ1_0 data of 256 elements takes 54 bytes, received 53/);
  });
});

describe("float and Q8_0 codecs", () => {
  it("F16 and BF16 agree with the scalar conversions, both ways", () => {
    const values = Float32Array.of(0, -0, 1, -2, 0.1, 65504, 70000, 1e-8, 3.3895314e38, -Infinity);
    const f16 = encodeF16(values);
    const bf16 = encodeBF16(values);
    const f16Bits = new DataView(f16.buffer);
    const bfBits = new DataView(bf16.buffer);
    values.forEach((v, i) => {
      assert.equal(f16Bits.getUint16(2 * i, true), numberToF16Bits(v), `f16 of ${v}`);
      assert.equal(bfBits.getUint16(2 * i, true), numberToBf16Bits(v), `bf16 of ${v}`);
    });
    const back16 = decodeF16(f16);
    const backBf = decodeBF16(bf16);
    values.forEach((_, i) => {
      assert.ok(Object.is(back16[i], Math.fround(f16BitsToNumber(f16Bits.getUint16(2 * i, true)))));
      assert.ok(Object.is(backBf[i], bf16BitsToNumber(bfBits.getUint16(2 * i, true))));
    });
    // An odd byte offset (a view into a file at any position) decodes the same.
    const shifted = new Uint8Array(f16.length + 1);
    shifted.set(f16, 1);
    assert.deepEqual(decodeF16(shifted.subarray(1)), back16);
    throwsFormat(() => decodeF16(new Uint8Array(3), "w"), /'w': F16 data must be a multiple of 2 bytes, received 3/);
  });

  it("Q8_0: one block by hand", () => {
    const block = new Bytes().u16(0x3800 /* 0.5 */).raw(Array.from({ length: 32 }, (_, i) => (i - 16) & 0xff)).bytes();
    const out = decodeQ8_0(block, 32);
    assert.deepEqual(out, Float32Array.from({ length: 32 }, (_, i) => (i - 16) * 0.5));
    assert.deepEqual(dequantizeGGML("Q8_0", block, [32]), out);
    assert.throws(() => dequantizeGGML("Q4_K", new Uint8Array(144), [256]), /no decoder for ggml type Q4_K/);
  });
});

// ---- Malformed files, built by hand.

interface InfoSpec {
  name: string;
  ne: (number | bigint)[];
  type: number;
  offset: number | bigint;
  nDims?: number;
}

/** A GGUF file from raw key-value bytes, tensor infos and data bytes. */
function build(opts: { version?: number; kv?: (b: Bytes) => void; kvCount?: number | bigint; infos?: InfoSpec[]; tensorCount?: number | bigint; data?: number; align?: number }): Uint8Array {
  const kv = new Bytes();
  opts.kv?.(kv);
  const infos = opts.infos ?? [];
  const b = new Bytes()
    .raw([0x47, 0x47, 0x55, 0x46])
    .u32(opts.version ?? 3)
    .u64(opts.tensorCount ?? infos.length)
    .u64(opts.kvCount ?? (opts.kv ? 1 : 0))
    .raw(kv.a);
  for (const t of infos) {
    b.str(t.name).u32(t.nDims ?? t.ne.length);
    for (const d of t.ne) b.u64(d);
    b.u32(t.type).u64(t.offset);
  }
  b.padTo(opts.align ?? 32);
  b.raw(new Array(opts.data ?? 0).fill(0));
  return b.bytes();
}

describe("malformed GGUF files", () => {
  const f32 = (name: string, n: number, offset: number | bigint): InfoSpec => ({ name, ne: [n], type: 0, offset });

  it("bad magic and versions", () => {
    const g = goldenBytes();
    g[3] = 0x47;
    throwsFormat(() => parseGGUF(g), /^parseGGUF: '<buffer>': bad magic: the file starts with bytes 47 47 55 47, expected 47 47 55 46 \("GGUF"\)/);
    throwsFormat(() => parseGGUF(build({ version: 1 })), /GGUF version 1 is not supported .*expected version 3/);
    throwsFormat(() => parseGGUF(build({ version: 4 })), /unsupported GGUF version 4, expected 3/);
    throwsFormat(() => parseGGUF(build({ version: 0x03000000 })), /looks like a big-endian GGUF file/);
    assert.equal(parseGGUF(build({ version: 2 })).version, 2);
  });

  it("truncation anywhere in any section", () => {
    const g = goldenBytes();
    const seen = new Set<string>();
    for (let n = 0; n < g.length - 1; n++) {
      // Padding after the last tensor's data is not data: a file cut there still holds everything.
      if (n >= g.length - 256 + 160 + 66) break;
      assert.throws(
        () => parseGGUF(g.slice(0, n)),
        (e: unknown) => {
          assert.ok(e instanceof GGUFFormatError, `length ${n}: ${(e as Error)?.message}`);
          assert.match(e.message, /shorter than the 24-byte GGUF header|the file ends at byte \d+ inside|but only \d+ bytes follow|before the data section|needs bytes \[\d+, \d+\) of the data section, which holds only \d+ bytes/, `length ${n}`);
          seen.add(e.message.replace(/\d+/g, "N").replace(/'[^']*'/g, "Q"));
          return true;
        },
      );
    }
    // Every section was cut somewhere: the header, keys, values, array elements, infos, data.
    const all = [...seen].join("\n");
    for (const where of ["header", "the key of key-value pair", "the value type of key", "the elements of key", "the element count of key", "the n_dims of tensor", "ne[N] of tensor", "the type of tensor", "the data offset of tensor", "before the data section", "of the data section, which holds only"]) {
      assert.ok(all.includes(where), `no truncation inside ${where}:\n${all}`);
    }
  });

  it("truncation inside a value and inside an array element", () => {
    // Header (24) + key "k" (9) + type (4) = byte 37; the u32 value has only 2 of its 4 bytes.
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(4).u32(7) }).subarray(0, 39)), /the file ends at byte 39 inside key 'k' \(4 bytes needed at byte 37\)/);
    // Two strings: the first ("ab", 10 bytes) whole, the second's 8-byte length cut after 6.
    const cut = build({ kv: (b) => b.str("k").u32(9).u32(8).u64(2).str("ab").u64(1).raw([0x61]) });
    throwsFormat(() => parseGGUF(cut.subarray(0, 24 + 9 + 4 + 12 + 10 + 6)), /the file ends at byte 65 inside the length of element 1 of key 'k' \(8 bytes needed at byte 59\)/);
    throwsFormat(() => parseGGUF(cut.subarray(0, 24 + 9 + 4 + 12 + 10 + 8)), /element 1 of key 'k' has length 1, but only 0 bytes follow/);
  });

  it("huge counts and lengths are refused before any allocation", () => {
    const max = 2n ** 64n - 1n;
    throwsFormat(() => parseGGUF(build({ tensorCount: max })), /the tensor count is 18446744073709551615, but only 16 bytes follow \(each of the tensor infos takes at least 32 bytes\)/);
    throwsFormat(() => parseGGUF(build({ kvCount: 2n ** 63n })), /the key-value count is 9223372036854775808, but only 8 bytes follow/);
    throwsFormat(() => parseGGUF(build({ kvCount: 1, kv: (b) => b.u64(max).raw(new Array(16).fill(0)) })), /the key of key-value pair 0 has length 18446744073709551615, but only \d+ bytes follow/);
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(8).u64(2n ** 32n) })), /key 'k' has length 4294967296, but only \d+ bytes follow/);
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(9).u32(6).u64(2n ** 62n) })), /the element count of key 'k' is 4611686018427387904, but only \d+ bytes follow \(each of the f32 elements takes at least 4 bytes\)/);
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(9).u32(8).u64(5).str("a") })), /the element count of key 'k' is 5, but only 15 bytes follow \(each of the string elements takes at least 8 bytes\)/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [2n ** 53n], type: 0, offset: 0 }] })), /ne\[0\] of tensor 't' is 9007199254740992, more than 2\^53 - 1/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [2 ** 16, 2 ** 16], type: 0, offset: 0 }] })), /tensor 't' \(F32 \[65536, 65536\]\) needs bytes \[0, 17179869184\) of the data section, which holds only 0 bytes/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [2 ** 52, 2 ** 52], type: 0, offset: 0 }] })), /tensor 't' is F32 with ne \[4503599627370496, 4503599627370496\]: it has more than 2\^53 elements/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [1], type: 0, offset: 2n ** 64n - 32n }] })), /the data offset of tensor 't' is 18446744073709551584, more than 2\^53 - 1/);
  });

  it("metadata: value types, bools, UTF-8, nesting, duplicate keys", () => {
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(13).u8(0) })), /key 'k' has the unknown value type 13 \(at byte \d+\); GGUF defines 0 to 12/);
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(7).u8(2) })), /key 'k' is a bool stored as 2 .*expected 0 or 1/);
    throwsFormat(() => parseGGUF(build({ kv: (b) => b.str("k").u32(8).u64(2).raw([0xc3, 0x28]) })), /key 'k' \(bytes \d+ to \d+\) is not valid UTF-8/);
    throwsFormat(() => parseGGUF(build({ kvCount: 1, kv: (b) => b.u64(1).raw([0xff]).u32(0).u8(0) })), /the key of key-value pair 0 \(bytes 32 to 33\) is not valid UTF-8/);
    const nest = (depth: number) => (b: Bytes) => {
      b.str("k").u32(9);
      for (let i = 1; i < depth; i++) b.u32(9).u64(1);
      b.u32(0).u64(0);
    };
    assert.equal((parseGGUF(build({ kv: nest(8) })).metadata.get("k") as { elementType: string }).elementType, "array");
    throwsFormat(() => parseGGUF(build({ kv: nest(9) })), /key 'k' nests arrays more than 8 deep/);
    throwsFormat(() => parseGGUF(build({ kvCount: 2, kv: (b) => b.str("k").u32(0).u8(1).str("k").u32(0).u8(2) })), /key 'k' appears twice \(key-value pairs 0 and 1\)/);
  });

  it("alignment", () => {
    const align = (type: number, write: (b: Bytes) => void) => build({ kv: (b) => write(b.str("general.alignment").u32(type)) });
    throwsFormat(() => parseGGUF(align(4, (b) => b.u32(24))), /key 'general\.alignment' is u32 24, expected a u32 power of two \(default 32\)/);
    throwsFormat(() => parseGGUF(align(4, (b) => b.u32(0))), /is u32 0, expected a u32 power of two/);
    throwsFormat(() => parseGGUF(align(10, (b) => b.u64(32))), /key 'general\.alignment' is u64 32, expected a u32 power of two/);
    const f = parseGGUF(build({ kv: (b) => b.str("general.alignment").u32(4).u32(64), infos: [f32("a", 4, 64)], align: 64, data: 128 }));
    assert.equal(f.alignment, 64);
    assert.equal(f.dataOffset % 64, 0);
    assert.equal(f.tensors[0].data.byteOffset, f.dataOffset + 64);
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 2, 8)], data: 64 })), /tensor 'a' has data offset 8, not a multiple of the alignment 32/);
  });

  it("tensor infos: n_dims, types, block sizes, duplicate names", () => {
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [], nDims: 0, type: 0, offset: 0 }], data: 32 })), /tensor 't' has n_dims 0, expected 1 to 4/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [1, 1, 1, 1, 1], type: 0, offset: 0 }], data: 32 })), /tensor 't' has n_dims 5, expected 1 to 4/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "blk.0.attn_q.weight", ne: [4], type: 99, offset: 0 }], data: 32 })), /tensor 'blk\.0\.attn_q\.weight' has the unknown ggml type 99/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [100], type: 35, offset: 0 }], data: 128 })), /tensor 't' is TQ2_0 with ne \[100\]: TQ2_0 stores blocks of 256 elements along the innermost dimension, which is 100/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "t", ne: [126, 1], type: 36, offset: 0 }], data: 128 })), /tensor 't' is I2_S with ne \[126, 1\]: I2_S stores blocks of 4 elements/);
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 1, 0), f32("b", 1, 32), f32("a", 1, 64)], data: 96 })), /tensor 'a' appears twice \(tensor infos 0 and 2\)/);
    // Zero-sized dimensions are allowed (an empty tensor takes no bytes).
    assert.equal(parseGGUF(build({ infos: [{ name: "e", ne: [0, 3], type: 0, offset: 0 }] })).tensors[0].byteLength, 0);
  });

  it("data outside the file, overlaps, the I2_S size rule", () => {
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 8, 32)], data: 48 })), /tensor 'a' \(F32 \[8\]\) needs bytes \[32, 64\) of the data section, which holds only 48 bytes/);
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 8, 0), f32("b", 4, 0)], data: 32 })), /tensors '(a|b)' \(bytes \[0, (32|16)\)\) and '(a|b)' \(bytes \[0, (32|16)\)\) of the data section overlap/);
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 16, 0), f32("b", 4, 32)], data: 64 })), /tensors 'a' \(bytes \[0, 64\)\) and 'b' \(bytes \[32, 48\)\) of the data section overlap/);
    // I2_S [1, 128] takes 128 / 4 + 32 = 64 bytes: a next tensor 32 bytes on (the codes alone) overlaps its scale.
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "q", ne: [128, 1], type: 36, offset: 0 }, f32("n", 4, 32)], data: 64 })), /tensors 'q' \(bytes \[0, 64\)\) and 'n' \(bytes \[32, 48\)\)/);
    throwsFormat(() => parseGGUF(build({ infos: [{ name: "q", ne: [128, 1], type: 36, offset: 0 }], data: 32 })), /tensor 'q' \(I2_S \[1, 128\]\) needs bytes \[0, 64\) of the data section, which holds only 32 bytes/);
    const ok = parseGGUF(build({ infos: [{ name: "q", ne: [128, 1], type: 36, offset: 0 }, f32("n", 4, 64)], data: 96 }));
    assert.deepEqual(ok.tensors.map((t) => t.byteLength), [64, 16]);
    throwsFormat(() => parseGGUF(build({ infos: [f32("a", 1, 0)] }).subarray(0, 60)), /ends at byte 60, before the data section, which starts at byte 64|the file ends at byte 60 inside/);
  });
});
