import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Field, Float64, Table, Utf8, makeVector, util as arrowUtil, vectorFromArray } from "apache-arrow";

import {
  ArrowFormatError,
  EXTENSION_METADATA_KEY,
  EXTENSION_NAME_KEY,
  PLAIN_TENSOR_KEY,
  readArrowFile,
  tableFromIPCBytes,
  tableToIPCBytes,
  tableToTensors,
  tensorColumnInfo,
  tensorFromArrow,
  tensorToArrow,
  tensorsToTable,
  writeArrowFile,
} from "../../src/arrow";
import { fromArray } from "../../src/tensor/create";
import { DTYPES } from "../../src/tensor/dtype";
import { Tensor } from "../../src/tensor/tensor";
import { leakFree, sampleTensor, using } from "./helpers";

let dir = "";
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-arrow-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Files in the test directory, for checking that no temporary file remains. */
function listing(): string[] {
  return fs.readdirSync(dir).sort();
}

/** A table with a tensor column of every dtype, dim names, and two plain columns. */
function mixedTable(): { table: Table; tensors: Record<string, Tensor> } {
  const tensors: Record<string, Tensor> = {};
  DTYPES.forEach((dtype, i) => {
    tensors[`t_${dtype}`] = sampleTensor(dtype, i % 2 === 0 ? [3, 2, 4] : [3]);
  });
  const named = tensorToArrow(tensors.t_f32, { dimNames: ["C", "L"] });
  const table = tensorsToTable({
    ...tensors,
    t_f32: named,
    z: { field: new Field("z", new Float64(), false), vector: makeVector(new Float64Array([0.1, -2.5e-300, 1e300])) },
    s: vectorFromArray(["alpha", null, "γ"], new Utf8()),
  });
  return { table, tensors };
}

function disposeAll(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) t.dispose();
}

/** Bits of a contiguous tensor's storage (floats compared exactly). */
function bits(t: Tensor): number[] {
  const d = t.data();
  if (d instanceof Float32Array) return Array.from(new Uint32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)));
  return Array.from(d as ArrayLike<number>);
}

function assertSameTable(read: Table, table: Table, tensors: Record<string, Tensor>): void {
  assert.equal(read.numRows, table.numRows);
  assert.deepEqual(read.schema.fields.map((f) => f.name), table.schema.fields.map((f) => f.name));
  read.schema.fields.forEach((f, i) => {
    const g = table.schema.fields[i];
    assert.ok(arrowUtil.compareTypes(f.type, g.type), `type of ${f.name}: ${f.type} vs ${g.type}`);
    assert.equal(f.nullable, g.nullable, `nullable of ${f.name}`);
    assert.deepEqual(f.metadata, g.metadata, `metadata of ${f.name}`);
  });
  assert.equal(read.schema.fields[0].metadata.get(EXTENSION_METADATA_KEY), '{"shape":[2,4],"dim_names":["C","L"]}');
  assert.equal(read.schema.fields[1].metadata.get(EXTENSION_METADATA_KEY), '{"shape":[]}');
  const out = tableToTensors(read);
  using(Object.values(out), () => {
    assert.deepEqual(Object.keys(out).sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      assert.equal(out[name].dtype, t.dtype, name);
      assert.deepEqual(out[name].shape, t.shape, name);
      assert.deepEqual(out[name].values(), t.values(), name);
      if (t.dtype !== "ternary2") assert.deepEqual(bits(out[name]), bits(t), name);
    }
  });
  assert.deepEqual(Array.from(read.getChild("z")!.toArray() as Float64Array), [0.1, -2.5e-300, 1e300]);
  assert.deepEqual(read.getChild("s")!.toJSON(), ["alpha", null, "γ"]);
  assert.deepEqual(tensorColumnInfo(read.schema.fields[0]).dimNames, ["C", "L"]);
}

describe("IPC round trips", () => {
  for (const format of ["file", "stream"] as const) {
    it(
      `${format}: written to disk and read back identically (values and metadata)`,
      leakFree(() => {
        const { table, tensors } = mixedTable();
        const p = path.join(dir, `mixed.${format === "file" ? "arrow" : "arrows"}`);
        try {
          const before = listing();
          writeArrowFile(p, table, { format });
          assert.deepEqual(listing(), [...new Set([...before, path.basename(p)])].sort(), "no temporary file remains");
          const raw = fs.readFileSync(p);
          if (format === "file") {
            assert.equal(raw.subarray(0, 6).toString("latin1"), "ARROW1");
            assert.equal(raw.subarray(raw.length - 6).toString("latin1"), "ARROW1");
          } else {
            assert.equal(raw.readUInt32LE(0), 0xffffffff);
            assert.deepEqual(Array.from(raw.subarray(raw.length - 8)), [255, 255, 255, 255, 0, 0, 0, 0]);
          }
          assertSameTable(readArrowFile(p), table, tensors);
          assert.deepEqual(Buffer.from(tableToIPCBytes(table, format)), raw, "the file holds exactly tableToIPCBytes' bytes");
        } finally {
          disposeAll(tensors);
        }
      }),
    );
  }

  it(
    "a tensor read from IPC bytes wraps those bytes (no copy)",
    leakFree(() => {
      const t = sampleTensor("f32", [64, 16]);
      const bytes = using([t], () => tableToIPCBytes(tensorsToTable({ t })));
      const read = tableFromIPCBytes(bytes);
      const back = tensorFromArrow(read, "t");
      using([back], () => {
        assert.equal(back.data().buffer, bytes.buffer);
        back.data()[5] = 1234.5;
        assert.equal(read.getChild("t")!.get(0)!.get(5), 1234.5);
      });
    }),
  );

  it(
    "extensionTypes: false writes plain FixedSizeList columns that still read back as tensors",
    leakFree(() => {
      const { table, tensors } = mixedTable();
      const p = path.join(dir, "plain.arrow");
      try {
        writeArrowFile(p, table, { extensionTypes: false });
        const read = readArrowFile(p);
        const f = read.schema.fields[0];
        assert.equal(f.metadata.has(EXTENSION_NAME_KEY), false);
        assert.equal(f.metadata.has(EXTENSION_METADATA_KEY), false);
        assert.equal(f.metadata.get(PLAIN_TENSOR_KEY), '{"shape":[2,4],"dim_names":["C","L"]}');
        assert.deepEqual(tensorColumnInfo(f), { dtype: "f32", shape: [2, 4], listSize: 8, extension: false, dimNames: ["C", "L"] });
        const out = tableToTensors(read);
        using(Object.values(out), () => {
          for (const [name, t] of Object.entries(tensors)) {
            assert.equal(out[name].dtype, t.dtype);
            assert.deepEqual(out[name].shape, t.shape);
            assert.deepEqual(out[name].values(), t.values());
          }
        });
        // The table itself is unchanged.
        assert.equal(table.schema.fields[0].metadata.get(EXTENSION_NAME_KEY), "arrow.fixed_shape_tensor");
      } finally {
        disposeAll(tensors);
      }
    }),
  );
});

describe("atomic writes", () => {
  it(
    "overwriting replaces the file whole; a failed write leaves the old file and no temporary file",
    leakFree(() => {
      const p = path.join(dir, "over.arrow");
      const a = fromArray([[1, 2]]);
      const b = fromArray([[3, 4], [5, 6]]);
      using([a, b], () => {
        writeArrowFile(p, tensorsToTable({ a }));
        writeArrowFile(p, tensorsToTable({ b }));
        const out = tableToTensors(readArrowFile(p));
        using(Object.values(out), () => assert.deepEqual(out.b.toArray(), [[3, 4], [5, 6]]));
      });
      const before = fs.readFileSync(p);
      const names = listing();
      const gone = fromArray([[7, 8]]);
      const table = tensorsToTable({ gone });
      gone.dispose();
      assert.throws(() => writeArrowFile(p, table), {
        message: new RegExp(`^writeArrowFile: cannot write '${escapeRe(p)}': the table's memory disagrees with its lengths \\(was a tensor it borrows disposed\\?\\): record batch 0, column 'gone'.item: the value buffer holds 0 entries, 2 needed`),
      });
      assert.deepEqual(fs.readFileSync(p), before);
      assert.deepEqual(listing(), names);
    }),
  );

  it(
    "a write into a missing directory names the file",
    leakFree(() => {
      const p = path.join(dir, "no-such-dir", "x.arrow");
      const t = fromArray([1, 2, 3]);
      using([t], () => {
        assert.throws(() => writeArrowFile(p, tensorsToTable({ t })), {
          message: new RegExp(`^writeArrowFile: cannot write '${escapeRe(p)}': no such file or directory \\(ENOENT\\)`),
        });
      });
    }),
  );

  it(
    "a write over a directory fails and removes its temporary file",
    leakFree(() => {
      const p = path.join(dir, "a-dir");
      fs.mkdirSync(p, { recursive: true });
      const names = listing();
      const t = fromArray([1, 2, 3]);
      using([t], () => {
        assert.throws(() => writeArrowFile(p, tensorsToTable({ t })), { message: new RegExp(`^writeArrowFile: cannot write '${escapeRe(p)}'`) });
      });
      assert.deepEqual(listing(), names);
    }),
  );

  it("wrong argument kinds are TypeErrors", () => {
    const table = tensorsToTable({ z: makeVector(new Float64Array([1])) });
    const p = path.join(dir, "args.arrow");
    assert.throws(() => writeArrowFile(5 as never, table), { name: "TypeError", message: /writeArrowFile: path must be a non-empty string, received 5/ });
    assert.throws(() => writeArrowFile("", table), { name: "TypeError", message: /path must be a non-empty string/ });
    assert.throws(() => writeArrowFile(p, {} as never), { name: "TypeError", message: /writeArrowFile: table must be an Arrow Table/ });
    assert.throws(() => writeArrowFile(p, table, "file" as never), { name: "TypeError", message: /writeArrowFile: options must be an object/ });
    assert.throws(() => writeArrowFile(p, table, { format: "csv" as never }), { name: "TypeError", message: /writeArrowFile: format must be 'file' or 'stream', received 'csv'/ });
    assert.throws(() => writeArrowFile(p, table, { extensionTypes: "no" as never }), { name: "TypeError", message: /writeArrowFile: extensionTypes must be a boolean/ });
    assert.throws(() => tableToIPCBytes(table, "x" as never), { name: "TypeError", message: /tableToIPCBytes: format must be 'file' or 'stream'/ });
    assert.throws(() => tableFromIPCBytes("abc" as never), { name: "TypeError", message: /bytes must be a Uint8Array, Buffer or ArrayBuffer, received 'abc'/ });
    assert.throws(() => readArrowFile(undefined as never), { name: "TypeError", message: /readArrowFile: path must be a non-empty string, received undefined/ });
    assert.equal(fs.existsSync(p), false);
  });
});

describe("bad files", () => {
  let fileBytes: Uint8Array = new Uint8Array();
  let streamBytes: Uint8Array = new Uint8Array();
  before(() => {
    const { table, tensors } = mixedTable();
    fileBytes = tableToIPCBytes(table, "file");
    streamBytes = tableToIPCBytes(table, "stream");
    disposeAll(tensors);
  });

  /** Writes bytes to a file in the test directory and returns its path. */
  function put(name: string, bytes: Uint8Array | string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, bytes);
    return p;
  }

  const label = (p: string): string => `^readArrowFile: '${escapeRe(p)}': `;

  it("missing file, directory, empty file", () => {
    const missing = path.join(dir, "missing.arrow");
    assert.throws(() => readArrowFile(missing), { message: new RegExp(`^readArrowFile: cannot read '${escapeRe(missing)}': no such file or directory \\(ENOENT\\)`) });
    assert.throws(() => readArrowFile(dir), { message: new RegExp(`^readArrowFile: cannot read '${escapeRe(dir)}': it is a directory \\(EISDIR\\)`) });
    const empty = put("empty.arrow", "");
    assert.throws(() => readArrowFile(empty), { message: new RegExp(`${label(empty)}it is empty`) });
  });

  it("garbage files", () => {
    const text = put("text.arrow", "hello, this is not Arrow data\n");
    assert.throws(() => readArrowFile(text), { message: new RegExp(`${label(text)}it is not an Arrow IPC file or stream \\(it starts with bytes 68 65 6c 6c 6f 2c 20 74\\)`) });
    assert.throws(() => readArrowFile(text), ArrowFormatError);
    const tiny = put("tiny.arrow", "ARR");
    assert.throws(() => readArrowFile(tiny), { message: new RegExp(`${label(tiny)}it is too short \\(3 bytes\\)`) });
    // Random bytes behind each format's opening and closing markers.
    let seed = 99;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) & 0xff;
    for (let k = 0; k < 200; k++) {
      const body = Uint8Array.from({ length: 16 + k * 7 }, rnd);
      const asFile = Buffer.concat([Buffer.from("ARROW1\0\0"), body, Buffer.from("ARROW1")]);
      const asStream = Buffer.concat([Buffer.from([255, 255, 255, 255]), body, Buffer.from([255, 255, 255, 255, 0, 0, 0, 0])]);
      for (const bytes of [asFile, asStream]) {
        assert.throws(() => tableFromIPCBytes(bytes, "LBL"), (e: unknown) => e instanceof ArrowFormatError && e.message.startsWith("LBL: "));
      }
    }
  });

  it("truncated files and streams", () => {
    const halfFile = put("half.arrow", fileBytes.subarray(0, fileBytes.length >> 1));
    assert.throws(() => readArrowFile(halfFile), {
      message: new RegExp(`${label(halfFile)}it is truncated: it starts like an Arrow IPC file but its footer and closing ARROW1 magic are missing`),
    });
    const halfStream = put("half.arrows", streamBytes.subarray(0, streamBytes.length >> 1));
    assert.throws(() => readArrowFile(halfStream), { message: new RegExp(`${label(halfStream)}it is truncated: .*end-of-stream marker is missing`) });
    // A stream cut inside its last message, with an end-of-stream marker put back after the cut.
    const eos = Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]);
    const cut = put("cut.arrows", Buffer.concat([streamBytes.subarray(0, streamBytes.length - 8 - 24), eos]));
    assert.throws(() => readArrowFile(cut), { message: new RegExp(`${label(cut)}.*(truncated|lies outside)`) });
    // Every possible truncation fails with an error that names the source.
    for (const bytes of [fileBytes, streamBytes]) {
      for (let n = 0; n < bytes.length; n++) {
        assert.throws(
          () => tableFromIPCBytes(bytes.subarray(0, n), "LBL"),
          (e: unknown) => e instanceof ArrowFormatError && e.message.startsWith("LBL: "),
          `truncation at ${n}`,
        );
      }
    }
  });

  it(
    "every single-byte corruption gives an error naming the source or a table that is whole",
    leakFree(() => {
      // Among these is the corruption that made apache-arrow JS loop ~2^31 times on a custom
      // metadata vector length (a hang) before verify.ts checked the structure.
      const started = Date.now();
      let errors = 0;
      for (const bytes of [fileBytes, streamBytes]) {
        for (let pos = 0; pos < bytes.length; pos++) {
          const orig = bytes[pos];
          for (const v of [orig ^ 0x80, 0xff, (orig + 100) & 0xff]) {
            if (v === orig) continue;
            const b = bytes.slice();
            b[pos] = v;
            const t0 = Date.now();
            try {
              const table = tableFromIPCBytes(b, "LBL");
              try {
                for (const t of Object.values(tableToTensors(table))) t.dispose();
              } catch (e) {
                assert.ok(e instanceof TypeError || e instanceof RangeError, `tensor conversion after byte ${pos} = ${v}: ${e}`);
              }
            } catch (e) {
              assert.ok(e instanceof ArrowFormatError && e.message.startsWith("LBL: "), `byte ${pos} = ${v}: ${e}`);
              errors++;
            }
            assert.ok(Date.now() - t0 < 2000, `byte ${pos} = ${v} took ${Date.now() - t0} ms`);
          }
        }
      }
      assert.ok(errors > 1000, `most corruptions are detected (${errors})`);
      assert.ok(Date.now() - started < 60000);
    }),
  );
});
