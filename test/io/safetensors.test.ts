// safetensors files and atomic writes: round trips, the exact byte layout (against hand-built
// files and the reference implementation's own test vectors), files written the way Python's
// safetensors writes them, and hostile files that must fail with a clear error.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import {
  SafetensorsFormatError,
  fsReason,
  parseSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  writeFileAtomic,
  writeSafetensors,
} from "../../src/io";
import { fromArray, wrap } from "../../src/tensor/create";
import { memoryStats } from "../../src/tensor/storage";
import { Tensor } from "../../src/tensor/tensor";

let dir = "";
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-io-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function freshPath(name = "t.safetensors"): string {
  return path.join(dir, `${fileCount++}-${name}`);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Runs the test body, then checks every tensor it made was disposed. */
function leakFree(body: () => void): () => void {
  return () => {
    (globalThis as { gc?: () => void }).gc?.();
    const liveBefore = memoryStats().liveTensors;
    body();
    assert.equal(memoryStats().liveTensors, liveBefore, "live tensors after the test (something was not disposed)");
  };
}

function disposeAll(tensors: Iterable<Tensor>): void {
  for (const t of tensors) t.dispose();
}

/** The raw bytes of a contiguous tensor. */
function rawBytes(t: Tensor): number[] {
  const d = t.data();
  return Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
}

/** A safetensors file from header JSON text (padded with `pad` spaces) and data bytes. */
function buildFile(json: string, data: ArrayLike<number> = [], pad = 0): Buffer {
  const header = Buffer.from(json + " ".repeat(pad), "utf8");
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, header, Buffer.from(Array.from(data))]);
}

function f32Bytes(values: number[]): number[] {
  return Array.from(new Uint8Array(new Float32Array(values).buffer));
}

/** Files in the test directory whose names mark them as temporary files of the atomic writer. */
function tempFiles(where = dir): string[] {
  return fs.readdirSync(where).filter((f) => f.endsWith(".tmp"));
}

describe("writeSafetensors / readSafetensors round trip", () => {
  it(
    "keeps every dtype, shape (0-d and empty included) and bit pattern, into native memory",
    leakFree(() => {
      const p = freshPath();
      const source = new Map<string, Tensor>([
        ["f32", fromArray([[1.5, -2.25, 3e-39], [Infinity, -0, 1e30]])],
        ["f16", fromArray([0.5, -65504, 6e-8, 1 / 3], { dtype: "f16" })],
        // Raw bf16 patterns, including a NaN payload, must survive untouched.
        ["bf16", wrap(new Uint16Array([0x3f80, 0xc000, 0x7fc1, 0x0001, 0xff80]), { dtype: "bf16" })],
        ["i8", fromArray([-128, 127, 0, -1, 5, 6], { dtype: "i8", shape: [3, 2] })],
        ["i32", fromArray([-2147483648, 2147483647, 0, 123456789], { dtype: "i32", shape: [2, 1, 2] })],
        ["u8", fromArray([0, 255, 128], { dtype: "u8" })],
        ["scalar", fromArray(42.5, { shape: [] })],
        ["empty", fromArray([], { shape: [0, 4] })],
        ["empty_u8", fromArray([], { dtype: "u8", shape: [3, 0] })],
      ]);
      try {
        writeSafetensors(p, source);
        const { tensors, metadata } = readSafetensors(p);
        try {
          assert.deepEqual(metadata, {});
          assert.deepEqual([...tensors.keys()].sort(), [...source.keys()].sort());
          for (const [name, t] of source) {
            const r = tensors.get(name)!;
            assert.equal(r.dtype, t.dtype, `dtype of ${name}`);
            assert.deepEqual(r.shape, t.shape, `shape of ${name}`);
            assert.deepEqual(rawBytes(r), rawBytes(t), `bytes of ${name}`);
            assert.equal(r.storage.owner, "native", `${name} lives in native memory`);
          }
          assert.equal(tensors.get("scalar")!.item(), 42.5);
          assert.ok(Object.is(tensors.get("f32")!.get(1, 1), -0));
        } finally {
          disposeAll(tensors.values());
        }
      } finally {
        disposeAll(source.values());
      }
    }),
  );

  it(
    "writes views (transposed, strided slice) as contiguous row-major data",
    leakFree(() => {
      const p = freshPath();
      const base = fromArray([[0, 1, 2], [3, 4, 5]]);
      const ints = fromArray([[1, 2, 3, 4], [5, 6, 7, 8]], { dtype: "i32" });
      const transposed = base.transpose(0, 1);
      const strided = ints.slice(1, 1, 4, 2);
      try {
        assert.equal(transposed.isContiguous(), false);
        assert.equal(strided.isContiguous(), false);
        writeSafetensors(p, { transposed, strided });
        const { tensors } = readSafetensors(p);
        try {
          const t = tensors.get("transposed")!;
          assert.deepEqual(t.shape, [3, 2]);
          assert.deepEqual(t.toArray(), [[0, 3], [1, 4], [2, 5]]);
          const s = tensors.get("strided")!;
          assert.deepEqual(s.shape, [2, 2]);
          assert.deepEqual(s.toArray(), [[2, 4], [6, 8]]);
        } finally {
          disposeAll(tensors.values());
        }
      } finally {
        disposeAll([base, ints, transposed, strided]);
      }
    }),
  );

  it("keeps metadata strings (unicode, empty, a '__proto__' key) and writes the same bytes for the same tensors", leakFree(() => {
    const p1 = freshPath();
    const p2 = freshPath();
    const metadata = JSON.parse('{"format":"pt","note":"Grüße 🚀","":"","__proto__":"kept as a key"}') as Record<string, string>;
    const a = fromArray([1, 2, 3]);
    const b = fromArray([4], { dtype: "i8" });
    try {
      writeSafetensors(p1, { a, b }, metadata);
      writeSafetensors(p2, new Map<string, Tensor>([["b", b], ["a", a]]), { ...JSON.parse('{"__proto__":"kept as a key"}'), "": "", note: "Grüße 🚀", format: "pt" });
      assert.deepEqual(fs.readFileSync(p1), fs.readFileSync(p2), "insertion order does not change the file");
      const { tensors, metadata: read } = readSafetensors(p1);
      disposeAll(tensors.values());
      assert.deepEqual(read, metadata);
      assert.equal(Object.getPrototypeOf(read), Object.prototype, "the '__proto__' key did not replace the prototype");
      assert.equal(read["__proto__"], "kept as a key");
      assert.deepEqual(readSafetensorsHeader(p1).metadata, metadata);
    } finally {
      disposeAll([a, b]);
    }
  }));

  it("orders names by UTF-8 bytes (as Rust does), not UTF-16 code units", leakFree(() => {
    const p = freshPath();
    // U+FF21 is EF BC A1 in UTF-8 and 0xFF21 in UTF-16; U+1F600 is F0 9F 98 80 and 0xD83D 0xDE00.
    const a = fromArray([1]);
    const b = fromArray([2]);
    try {
      writeSafetensors(p, { "\u{1F600}": a, "\uFF21": b });
      assert.deepEqual([...readSafetensorsHeader(p).tensors.keys()], ["\uFF21", "\u{1F600}"]);
    } finally {
      disposeAll([a, b]);
    }
  }));

  it("round-trips a 4 MB tensor exactly", leakFree(() => {
    const p = freshPath();
    const values = new Float32Array(1 << 20);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i) * 1000;
    const t = fromArray(values, { shape: [1024, 1024] });
    try {
      writeSafetensors(p, { t });
      const { tensors } = readSafetensors(p);
      try {
        assert.deepEqual(tensors.get("t")!.data(), values);
      } finally {
        disposeAll(tensors.values());
      }
    } finally {
      t.dispose();
    }
  }));

  it("reads only the tensors named in `names`, in that order", leakFree(() => {
    const p = freshPath();
    const a = fromArray([1, 2]);
    const b = fromArray([3], { dtype: "u8" });
    const c = fromArray([4, 5, 6], { dtype: "i32" });
    try {
      writeSafetensors(p, { a, b, c });
      const { tensors } = readSafetensors(p, { names: ["c", "a", "c"] });
      try {
        assert.deepEqual([...tensors.keys()], ["c", "a"]);
        assert.deepEqual(tensors.get("c")!.toArray(), [4, 5, 6]);
        assert.deepEqual(tensors.get("a")!.toArray(), [1, 2]);
      } finally {
        disposeAll(tensors.values());
      }
      assert.throws(() => readSafetensors(p, { names: ["a", "nope"] }), (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.match(e.message, /^readSafetensors: '.*': names lists 'nope', which the file does not hold \(it holds 'a', 'c', 'b'\)$/);
        return true;
      });
    } finally {
      disposeAll([a, b, c]);
    }
  }));
});

describe("safetensors byte layout", () => {
  it("matches a hand-built file: header JSON, offsets, dtype order, 8-byte alignment", leakFree(() => {
    const p = freshPath();
    const a = fromArray([1, 2, 3], { dtype: "u8" });
    const b = fromArray([1, -2]);
    const c = fromArray(7, { dtype: "i32", shape: [] });
    const h = fromArray([1, -2], { dtype: "f16" });
    try {
      writeSafetensors(p, { a, b, c, h }, { format: "pt" });
      // Data by descending alignment (F32, I32, F16, U8), names within a dtype in byte order.
      const json =
        '{"__metadata__":{"format":"pt"},' +
        '"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"c":{"dtype":"I32","shape":[],"data_offsets":[8,12]},' +
        '"h":{"dtype":"F16","shape":[2],"data_offsets":[12,16]},' +
        '"a":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}';
      assert.equal(json.length, 247);
      const data = [
        ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0], // f32 1, -2
        ...[0x07, 0x00, 0x00, 0x00], // i32 7
        ...[0x00, 0x3c, 0x00, 0xc0], // f16 1, -2
        ...[0x01, 0x02, 0x03], // u8
      ];
      const expected = buildFile(json, data, 1); // 247 + 1 = 248, a multiple of 8
      const actual = fs.readFileSync(p);
      assert.deepEqual(actual, expected);

      const header = readSafetensorsHeader(p);
      assert.equal(header.headerBytes, 248);
      assert.equal(header.dataStart, 256);
      assert.equal(header.dataBytes, 19);
      assert.deepEqual([...header.tensors.keys()], ["b", "c", "h", "a"]);
      assert.deepEqual(header.tensors.get("h"), { fileDType: "F16", dtype: "f16", shape: [2], dataOffsets: [12, 16] });
      for (const info of header.tensors.values()) {
        const itemBytes = { F32: 4, I32: 4, F16: 2, U8: 1 }[info.fileDType as "F32"];
        assert.equal((header.dataStart + info.dataOffsets[0]) % itemBytes, 0, `${info.fileDType} data is aligned`);
      }
    } finally {
      disposeAll([a, b, c, h]);
    }
  }));

  it("reproduces the reference implementation's serialization test vectors byte for byte", leakFree(() => {
    // huggingface/safetensors safetensors/src/tensor.rs: test_serialization,
    // test_serialization_forced_alignement and test_empty.
    const values = fromArray([0, 1, 2, 3, 4, 5]);
    const attn0 = values.reshape([1, 2, 3]);
    const attn0b = values.reshape([1, 1, 2, 3]);
    try {
      const p1 = freshPath();
      writeSafetensors(p1, { "attn.0": attn0 });
      assert.deepEqual(Array.from(fs.readFileSync(p1)), [
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115,
        104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44,
        50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
      ]);
      const p2 = freshPath();
      writeSafetensors(p2, { attn0: attn0b });
      assert.deepEqual(Array.from(fs.readFileSync(p2)), [
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115,
        104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91,
        48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
      ]);
      const p3 = freshPath();
      writeSafetensors(p3, {});
      assert.deepEqual(Array.from(fs.readFileSync(p3)), [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
      const p4 = freshPath();
      writeSafetensors(p4, {}, { framework: "pt" });
      assert.deepEqual(Array.from(fs.readFileSync(p4)), [
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114,
        107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
      ]);
      const read = readSafetensors(p4);
      assert.equal(read.tensors.size, 0);
      assert.deepEqual(read.metadata, { framework: "pt" });
    } finally {
      disposeAll([values, attn0, attn0b]);
    }
  }));

  it("reads a file written the way Python's safetensors writes it; I64 tensors are refused by name", leakFree(() => {
    // save_file({"weight": torch.tensor([[1., -2.], [0.5, 3.]]), "position_ids": torch.arange(3)[None]},
    // metadata={"format": "pt"}): I64 sorts before F32, the header is padded with spaces.
    const json =
      '{"__metadata__":{"format":"pt"},"position_ids":{"dtype":"I64","shape":[1,3],"data_offsets":[0,24]},' +
      '"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[24,40]}}';
    const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
    const i64 = [0, 1, 2].flatMap((v) => [v, 0, 0, 0, 0, 0, 0, 0]);
    const p = freshPath("python.safetensors");
    fs.writeFileSync(p, buildFile(json, [...i64, ...f32Bytes([1, -2, 0.5, 3])], pad));

    assert.throws(() => readSafetensors(p), (e: Error) => {
      assert.ok(e instanceof SafetensorsFormatError);
      assert.equal(
        e.message,
        `readSafetensors: '${p}': tensor 'position_ids' has dtype I64, which bitnet-lab cannot hold (it reads F32, F16, BF16, I8, I32, U8); leave it out with the names option`,
      );
      return true;
    });
    const { tensors, metadata } = readSafetensors(p, { names: ["weight"] });
    try {
      assert.deepEqual(metadata, { format: "pt" });
      assert.deepEqual(tensors.get("weight")!.toArray(), [[1, -2], [0.5, 3]]);
    } finally {
      disposeAll(tensors.values());
    }
    const header = readSafetensorsHeader(p);
    assert.deepEqual(header.tensors.get("position_ids"), { fileDType: "I64", dtype: null, shape: [1, 3], dataOffsets: [0, 24] });
    assert.equal(header.dataStart % 8, 0);
  }));

  it("reads files with an unpadded header, entries in any order, and other writers' whitespace", leakFree(() => {
    // An old-style file: name-ordered entries, no padding (data starts at an odd byte), and
    // JSON whitespace; the reader copies into aligned memory, so this must read correctly.
    const json = '{ "z" : {"shape":[2],"dtype":"F32","data_offsets":[1,9]},\n "a": {"dtype":"U8","shape":[1],"data_offsets":[0,1]} }';
    assert.notEqual((8 + Buffer.byteLength(json)) % 4, 0);
    const p = freshPath();
    fs.writeFileSync(p, buildFile(json, [200, ...f32Bytes([0.25, -8])]));
    const { tensors } = readSafetensors(p);
    try {
      assert.deepEqual([...tensors.keys()], ["a", "z"], "file (offset) order");
      assert.deepEqual(tensors.get("z")!.toArray(), [0.25, -8]);
      assert.deepEqual(tensors.get("a")!.toArray(), [200]);
    } finally {
      disposeAll(tensors.values());
    }
  }));
});

describe("hostile safetensors files", () => {
  /** Writes `bytes` to a new file and checks both readers fail with a SafetensorsFormatError matching `message`. */
  function assertRejected(bytes: Buffer, message: RegExp): void {
    const p = freshPath("bad.safetensors");
    fs.writeFileSync(p, bytes);
    for (const [fn, read] of [
      ["readSafetensors", () => readSafetensors(p)],
      ["readSafetensorsHeader", () => readSafetensorsHeader(p)],
    ] as const) {
      assert.throws(read, (e: Error) => {
        assert.ok(e instanceof SafetensorsFormatError, `${fn}: ${e}`);
        assert.equal(e.name, "SafetensorsFormatError");
        assert.ok(e.message.startsWith(`${fn}: '${p}': `), e.message);
        assert.match(e.message, message);
        return true;
      });
    }
  }

  const validJson = '{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"b":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}';
  const validData = [...f32Bytes([1, 2, 3, 4]), 7, 8, 9];

  it("every truncation of a valid file is a SafetensorsFormatError", leakFree(() => {
    const whole = buildFile(validJson, validData, (8 - (validJson.length % 8)) % 8);
    const p = freshPath();
    fs.writeFileSync(p, whole);
    disposeAll(readSafetensors(p).tensors.values()); // the whole file is valid
    for (let length = 0; length < whole.length; length++) {
      fs.writeFileSync(p, whole.subarray(0, length));
      for (const read of [() => readSafetensors(p), () => readSafetensorsHeader(p)]) {
        assert.throws(read, (e: Error) => e instanceof SafetensorsFormatError && e.message.includes(`'${p}'`), `truncated to ${length} bytes`);
      }
    }
    assertRejected(whole.subarray(0, 5), /the file is 5 bytes long, too short for the 8-byte header size/);
    assertRejected(whole.subarray(0, whole.length - 1), /tensor 'b' has data_offsets \[16, 19\] but the data buffer holds only 18 bytes \(is the file truncated\?\)/);
  }));

  it("a header size of 2^64 - 1 or above 100 MB", () => {
    const huge = Buffer.alloc(16, 0xff);
    assertRejected(huge, /the header size is 18446744073709551615 bytes, more than the 100000000-byte limit/);
    const justAbove = Buffer.alloc(16);
    justAbove.writeBigUInt64LE(100_000_001n);
    assertRejected(justAbove, /the header size is 100000001 bytes, more than the 100000000-byte limit/);
  });

  it("a header size bigger than the file", () => {
    const bytes = buildFile("{}");
    bytes.writeBigUInt64LE(3n, 0);
    assertRejected(bytes, /the header size is 3 bytes but only 2 bytes follow the 8-byte size/);
  });

  it("a header that is not UTF-8, not JSON, or not an object", () => {
    assertRejected(buildFile("", []), /the header is not valid JSON/);
    assertRejected(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0xff, 0x7d]), /the header is not valid UTF-8/);
    assertRejected(buildFile('{"w": {"dtype": "F32",'), /the header is not valid JSON/);
    assertRejected(buildFile("\ufeff{}"), /the header is not valid JSON/); // a byte-order mark is not JSON whitespace
    assertRejected(buildFile("{}\0\0\0\0\0\0"), /the header is not valid JSON/); // padding must be spaces
    assertRejected(buildFile("[]"), /the header must be a JSON object of tensors, found \[\]/);
    assertRejected(buildFile("null"), /the header must be a JSON object of tensors, found null/);
    assertRejected(buildFile('"w"'), /found the string "w"/);
  });

  it("deeply nested JSON is rejected without a crash", () => {
    const depth = 200_000;
    assertRejected(buildFile("[".repeat(depth) + "]".repeat(depth)), /the header (must be a JSON object of tensors, found an array of length 1$|is not valid JSON)/);
    assertRejected(buildFile('{"w":' + "[".repeat(depth) + "]".repeat(depth) + "}"), /tensor 'w' must be an object with dtype, shape and data_offsets, found an array of length 1$|the header is not valid JSON/);
    assertRejected(buildFile('{"w":' + "{".repeat(depth).split("").join('"k":') + "}".repeat(depth) + "}"), /tensor 'w' has no dtype$|the header is not valid JSON/);
  });

  it("entries that are not objects, or lack a field", () => {
    assertRejected(buildFile('{"w":3}'), /tensor 'w' must be an object with dtype, shape and data_offsets, found the number 3$/);
    assertRejected(buildFile('{"w":[1,2]}'), /tensor 'w' must be an object with dtype, shape and data_offsets, found \[1,2\]$/);
    assertRejected(buildFile('{"w":{"dtype":"F32","shape":[]}}', [0, 0, 0, 0]), /tensor 'w' has no data_offsets$/);
    assertRejected(buildFile('{"w":{"shape":[],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'w' has no dtype$/);
  });

  it("unknown and malformed dtypes", () => {
    assertRejected(
      buildFile('{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}', [0]),
      /tensor 'w' has unknown dtype 'Q4' \(the format defines BOOL, .*F32.*; bitnet-lab reads F32, F16, BF16, I8, I32, U8\)$/,
    );
    assertRejected(buildFile('{"w":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /unknown dtype 'f32'/);
    assertRejected(buildFile('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 'w' has dtype the number 4, expected a string/);
  });

  it("negative, fractional, huge or non-numeric shape entries", () => {
    const file = (shape: string): Buffer => buildFile(`{"w":{"dtype":"F32","shape":${shape},"data_offsets":[0,8]}}`, new Array(8).fill(0));
    assertRejected(file("[2,-1]"), /tensor 'w' has shape \[2,-1\]: entry 1 is the number -1, expected a non-negative integer$/);
    assertRejected(file("[2.5]"), /tensor 'w' has shape \[2\.5\]: entry 0 is the number 2\.5, expected a non-negative integer$/);
    assertRejected(file("[1e300]"), /entry 0 is the number 1e\+300/);
    assertRejected(file('["2"]'), /entry 0 is the string "2"/);
    assertRejected(file("2"), /tensor 'w' has shape the number 2, expected an array of non-negative integers$/);
    // Safe integers whose product is astronomically large must not overflow into a false match.
    assertRejected(file("[9007199254740991,9007199254740991]"), /needs more than 2\^50 bytes/);
  });

  it("data_offsets that disagree with dtype and shape (wrong numel)", () => {
    assertRejected(
      buildFile('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}}', new Array(12).fill(0)),
      /tensor 'w' has data_offsets \[0, 12\] but F32 \[2, 2\] needs 16 bytes$/,
    );
    assertRejected(
      buildFile('{"w":{"dtype":"BF16","shape":[],"data_offsets":[0,4]}}', new Array(4).fill(0)),
      /tensor 'w' has data_offsets \[0, 4\] but BF16 \[\] needs 2 bytes$/,
    );
  });

  it("data_offsets that are malformed or out of the buffer", () => {
    const file = (offsets: string, bytes = 4): Buffer => buildFile(`{"w":{"dtype":"I32","shape":[1],"data_offsets":${offsets}}}`, new Array(bytes).fill(0));
    assertRejected(file("[4,0]"), /tensor 'w' has data_offsets \[4,0\], expected \[begin, end\] with integers 0 <= begin <= end$/);
    assertRejected(file("[-4,0]"), /data_offsets \[-4,0\], expected/);
    assertRejected(file("[0,4,8]"), /data_offsets \[0,4,8\], expected/);
    assertRejected(file("[0.5,4.5]"), /data_offsets \[0\.5,4\.5\], expected/);
    assertRejected(file('"0-4"'), /data_offsets the string "0-4", expected/);
    assertRejected(file("[4,8]"), /tensor 'w' has data_offsets \[4, 8\] but the data buffer holds only 4 bytes/);
    assertRejected(file("[18446744073709551612,18446744073709551616]"), /data_offsets \[18446744073709552000,18446744073709552000\], expected/);
  });

  it("overlapping tensors", () => {
    assertRejected(
      buildFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Array(12).fill(0)),
      /tensors 'a' \(data_offsets \[0, 8\]\) and 'b' \(data_offsets \[4, 12\]\) overlap$/,
    );
    // Two names for the same bytes.
    assertRejected(
      buildFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', new Array(8).fill(0)),
      /tensors 'a' \(data_offsets \[0, 8\]\) and 'b' \(data_offsets \[0, 8\]\) overlap$/,
    );
  });

  it("bytes of the buffer that belong to no tensor (a gap, leading or trailing bytes)", () => {
    assertRejected(
      buildFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', new Array(12).fill(0)),
      /bytes \[4, 8\) of the data buffer belong to no tensor \(between 'a' and 'b'\)/,
    );
    assertRejected(buildFile('{"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [0, 0, 0]), /bytes \[0, 2\) of the data buffer belong to no tensor \(before 'b'\)/);
    assertRejected(buildFile('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [0, 0, 0]), /bytes \[1, 3\) of the data buffer belong to no tensor \(after 'a', the last tensor\)/);
    assertRejected(buildFile("{}", [1]), /bytes \[0, 1\) of the data buffer belong to no tensor \(the header lists no tensors\)/);
  });

  it("metadata that is not an object of strings", () => {
    assertRejected(buildFile('{"__metadata__":{"epoch":3}}'), /__metadata__\['epoch'\] must be a string, found the number 3$/);
    assertRejected(buildFile('{"__metadata__":{"tags":["a"]}}'), /__metadata__\['tags'\] must be a string, found \["a"\]$/);
    assertRejected(buildFile('{"__metadata__":"pt"}'), /__metadata__ must be an object of strings, found the string "pt"$/);
  });

  it("duplicate keys, which JSON.parse would silently resolve to the last one", () => {
    const w = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    assertRejected(buildFile(`{"w":${w},"w":${w}}`, [0]), /the header has two entries named 'w'$/);
    assertRejected(buildFile('{"w":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', [0]), /tensor 'w' has the key 'dtype' twice$/);
    assertRejected(buildFile('{"__metadata__":{"k":"a","k":"b"}}'), /__metadata__ has the key 'k' twice$/);
    // Escapes spell the same key differently; quotes inside strings do not end them.
    assertRejected(buildFile(`{"\\u0077":${w},"w":${w}}`, [0]), /the header has two entries named 'w'$/);
    const tricky = '{"a\\"b\\\\":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"x":"\\",\\"x\\":"}}';
    const p = freshPath();
    fs.writeFileSync(p, buildFile(tricky, [5]));
    const { tensors, metadata } = readSafetensors(p);
    assert.deepEqual([...tensors.keys()], ['a"b\\']);
    assert.deepEqual(metadata, { x: '","x":' });
    disposeAll(tensors.values());
  });
});

describe("parseSafetensors (bytes in memory)", () => {
  it("gives the same header as readSafetensorsHeader and views of the tensors' bytes", leakFree(() => {
    const p = freshPath();
    const a = fromArray([[1, 2, 3], [4, 5, 6]]);
    const b = fromArray([-1, 7], { dtype: "i8" });
    writeSafetensors(p, { a, b }, { note: "x" });
    disposeAll([a, b]);
    const bytes = new Uint8Array(fs.readFileSync(p));
    const { header, data } = parseSafetensors(bytes);
    assert.deepEqual(header, readSafetensorsHeader(p));
    assert.deepEqual([...data.keys()], [...header.tensors.keys()]);
    const av = data.get("a")!;
    assert.equal(av.buffer, bytes.buffer);
    assert.deepEqual([...av], f32Bytes([1, 2, 3, 4, 5, 6]));
    assert.deepEqual([...data.get("b")!], [0xff, 7]);
  }));

  it("names '<buffer>' (or the given name) in the same errors readSafetensors gives", () => {
    const file = buildFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', f32Bytes([1, 2]));
    assert.throws(() => parseSafetensors(new Uint8Array(file.subarray(0, file.length - 1))), {
      name: "SafetensorsFormatError",
      message: /^parseSafetensors: '<buffer>': tensor 'a' has data_offsets \[0, 8\] but the data buffer holds only 7 bytes/,
    });
    assert.throws(() => parseSafetensors(new Uint8Array(4), "m.safetensors"), /parseSafetensors: 'm\.safetensors': the file is 4 bytes long, too short/);
    assert.throws(() => parseSafetensors([1, 2] as never), /TypeError|bytes must be a Uint8Array/);
  });
});

describe("argument and file-system errors", () => {
  it("writeSafetensors refuses ternary2, non-tensors, disposed tensors, the reserved name and non-string metadata", leakFree(() => {
    const p = freshPath();
    const t = fromArray([-1, 0, 1, 1], { dtype: "ternary2" });
    const ok = fromArray([1]);
    const gone = fromArray([1]);
    gone.dispose();
    try {
      assert.throws(() => writeSafetensors(p, { ok, packed: t }), {
        name: "RangeError",
        message: /^writeSafetensors: tensors\['packed'\] has dtype 'ternary2', which safetensors cannot store .*unpack it first/,
      });
      assert.throws(() => writeSafetensors(p, { w: [1, 2] as unknown as Tensor }), {
        name: "TypeError",
        message: "writeSafetensors: tensors['w'] must be a Tensor, received an array of length 2",
      });
      assert.throws(() => writeSafetensors(p, { gone }), { name: "TypeError", message: "writeSafetensors: tensors['gone'] was disposed" });
      assert.throws(() => writeSafetensors(p, { __metadata__: ok }), { name: "RangeError", message: /'__metadata__' is reserved/ });
      assert.throws(() => writeSafetensors(p, ok as unknown as Record<string, Tensor>), { name: "TypeError", message: /received a Tensor/ });
      assert.throws(() => writeSafetensors(p, null as unknown as Record<string, Tensor>), { name: "TypeError", message: /^writeSafetensors: tensors must be a Map/ });
      assert.throws(() => writeSafetensors(p, { ok }, { epoch: 3 as unknown as string }), {
        name: "TypeError",
        message: "writeSafetensors: metadata['epoch'] must be a string, received 3",
      });
      assert.throws(() => writeSafetensors("", { ok }), { name: "TypeError", message: /^writeSafetensors: path must be a non-empty string/ });
      assert.equal(fs.existsSync(p), false, "nothing was written");
    } finally {
      disposeAll([t, ok]);
    }
  }));

  it("readSafetensors names a missing file, a directory and bad options", () => {
    const missing = path.join(dir, "missing.safetensors");
    assert.throws(() => readSafetensors(missing), (e: Error) => {
      assert.equal(e.message, `readSafetensors: cannot read '${missing}': no such file or directory (ENOENT)`);
      assert.equal((e.cause as NodeJS.ErrnoException).code, "ENOENT");
      return true;
    });
    assert.throws(() => readSafetensorsHeader(dir), { message: `readSafetensorsHeader: cannot read '${dir}': it is a directory (EISDIR)` });
    assert.throws(() => readSafetensors(missing, { names: "w" as unknown as string[] }), { name: "TypeError", message: /^readSafetensors: names must be an array of strings/ });
    assert.throws(() => readSafetensors(missing, { names: [1 as unknown as string] }), { name: "TypeError", message: /^readSafetensors: names\[0\] must be a string/ });
    assert.throws(() => readSafetensors(3 as unknown as string), { name: "TypeError", message: /^readSafetensors: path must be a non-empty string, received 3/ });
  });
});

describe("writeFileAtomic", () => {
  it("replaces an existing file completely and leaves no temporary file", () => {
    const p = freshPath("replace.bin");
    fs.writeFileSync(p, Buffer.alloc(1000, 0xaa));
    writeFileAtomic("test", p, [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])]);
    assert.deepEqual(Array.from(fs.readFileSync(p)), [1, 2, 3]);
    assert.deepEqual(tempFiles(), []);
  });

  it("writeSafetensors over a bigger file leaves exactly the new file", leakFree(() => {
    const p = freshPath();
    const big = fromArray(new Array(1000).fill(1.5));
    const small = fromArray([2], { dtype: "u8" });
    try {
      writeSafetensors(p, { big });
      writeSafetensors(p, { small });
      const { tensors } = readSafetensors(p);
      assert.deepEqual([...tensors.keys()], ["small"]);
      disposeAll(tensors.values());
      assert.equal(fs.statSync(p).size, 8 + readSafetensorsHeader(p).headerBytes + 1);
    } finally {
      disposeAll([big, small]);
    }
  }));

  it("a directory that does not exist: names the path and the reason, leaves nothing behind", leakFree(() => {
    const target = path.join(dir, "no-such-dir", "x.safetensors");
    const t = fromArray([1]);
    try {
      assert.throws(() => writeSafetensors(target, { t }), (e: Error) => {
        assert.equal(e.message, `writeSafetensors: cannot write '${target}': no such file or directory (ENOENT)`);
        assert.equal((e.cause as NodeJS.ErrnoException).code, "ENOENT");
        return true;
      });
    } finally {
      t.dispose();
    }
    assert.equal(fs.existsSync(path.dirname(target)), false);
    assert.deepEqual(tempFiles(), []);
  }));

  it("a path that is a directory: the rename fails, the directory and its contents are untouched, the temporary file is removed", () => {
    const target = path.join(dir, "a-directory");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "inside.txt"), "keep");
    assert.throws(() => writeFileAtomic("saveThing", target, [new Uint8Array([1, 2, 3])]), (e: Error) => {
      assert.match(e.message, new RegExp(`^saveThing: cannot write '${escapeRe(target)}': it is a directory \\(EISDIR\\)$`));
      assert.ok(e.cause instanceof Error);
      return true;
    });
    assert.ok(fs.statSync(target).isDirectory());
    assert.deepEqual(fs.readdirSync(target), ["inside.txt"]);
    assert.deepEqual(tempFiles(), []);
  });

  it("takes an iterable that makes chunks as they are reached; its errors pass through unchanged", () => {
    const p = freshPath("iterable.bin");
    const made: number[] = [];
    function* chunks(): Generator<Uint8Array> {
      for (let i = 0; i < 3; i++) {
        made.push(i);
        yield new Uint8Array([i, i]);
      }
    }
    writeFileAtomic("test", p, chunks());
    assert.deepEqual(Array.from(fs.readFileSync(p)), [0, 0, 1, 1, 2, 2]);
    assert.deepEqual(made, [0, 1, 2]);
    const boom = new Error("made badly");
    let cleaned = false;
    function* failing(): Generator<Uint8Array> {
      try {
        yield new Uint8Array([9]);
        throw boom;
      } finally {
        cleaned = true;
      }
    }
    assert.throws(() => writeFileAtomic("test", p, failing()), (e) => e === boom);
    assert.equal(cleaned, true);
    assert.deepEqual(Array.from(fs.readFileSync(p)), [0, 0, 1, 1, 2, 2], "the old file stays");
    function* wrongKind(): Generator<unknown> {
      yield new Uint8Array([1]);
      yield "two";
    }
    assert.throws(() => writeFileAtomic("test", p, wrongKind() as Iterable<Uint8Array>), { name: "TypeError", message: "test: chunks[1] must be a Uint8Array, received 'two'" });
    assert.deepEqual(tempFiles(), []);
  });

  it("validates its arguments before touching the file system", () => {
    const p = freshPath("never.bin");
    assert.throws(() => writeFileAtomic("f", p, [new Uint8Array(1), [1] as unknown as Uint8Array]), { name: "TypeError", message: "f: chunks[1] must be a Uint8Array, received an array of length 1" });
    assert.throws(() => writeFileAtomic("f", "", []), { name: "TypeError", message: "f: path must be a non-empty string, received ''" });
    assert.throws(() => writeFileAtomic("f", p, "x" as unknown as Uint8Array[]), { name: "TypeError", message: /^f: chunks must be an array of Uint8Array/ });
    assert.equal(fs.existsSync(p), false);
  });

  it("fsReason puts the code in words", () => {
    assert.equal(fsReason(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: "ENOENT" })), "no such file or directory (ENOENT)");
    assert.equal(fsReason(Object.assign(new Error("EWEIRD: something odd, open 'x'"), { code: "EWEIRD" })), "something odd, open 'x' (EWEIRD)");
    assert.equal(fsReason(new Error("plain")), "plain");
    assert.equal(fsReason("text"), "text");
  });
});
