import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import {
  Data,
  DataType,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int8,
  Int32,
  Uint16,
  Utf8,
  Vector,
  makeData,
  makeVector,
  vectorFromArray,
} from "apache-arrow";

import {
  DTYPE_METADATA_KEY,
  EXTENSION_METADATA_KEY,
  EXTENSION_NAME_KEY,
  FIXED_SHAPE_TENSOR,
  TensorColumn,
  tableToTensors,
  tensorColumnInfo,
  tensorFromArrow,
  tensorToArrow,
  tensorsToTable,
} from "../../src/arrow";
import { arange, empty, fromArray, wrap, zeros } from "../../src/tensor/create";
import { DTYPES, DType } from "../../src/tensor/dtype";
import { memoryStats } from "../../src/tensor/storage";
import { Tensor } from "../../src/tensor/tensor";
import { leakFree, sampleTensor, using } from "./helpers";

const ARROW_TYPE: Record<DType, string> = {
  f32: "Float32",
  f16: "Float16",
  bf16: "Uint16",
  i8: "Int8",
  i32: "Int32",
  u8: "Uint8",
  ternary2: "Int8",
};

/** The child Data of a single-chunk FixedSizeList vector. */
function child(vector: Vector): Data {
  assert.equal(vector.data.length, 1);
  return vector.data[0].children[0];
}

/** Raw storage bits of a contiguous tensor, to compare floats exactly (NaN and -0 included). */
function bits(t: Tensor): number[] {
  const d = t.data();
  if (d instanceof Float32Array) return Array.from(new Uint32Array(d.buffer, d.byteOffset, d.length));
  return Array.from(d as ArrayLike<number>);
}

/** A fixed_shape_tensor column built by hand, as another producer would write it. */
function handColumn(values: Float32Array | Int8Array | Int32Array, rows: number, listSize: number, metadata: Record<string, string>, name = "h"): TensorColumn {
  const childType = values instanceof Float32Array ? new Float32() : values instanceof Int8Array ? new Int8() : new Int32();
  const listType: FixedSizeList = new FixedSizeList(listSize, new Field("item", childType as DataType, true));
  const childData = makeData({ type: childType, length: values.length, nullCount: 0, data: values } as never) as Data;
  const data = makeData({ type: listType, length: rows, nullCount: 0, child: childData });
  return { field: new Field(name, listType, false, new Map(Object.entries(metadata))), vector: makeVector(data) };
}

describe("tensorToArrow / tensorFromArrow: round trips", () => {
  const shapes = [[5], [3, 4], [2, 3, 4], [0, 7]];
  for (const dtype of DTYPES) {
    for (const shape of shapes) {
      it(
        `${dtype} ${JSON.stringify(shape)}`,
        leakFree(() => {
          const t = sampleTensor(dtype, shape);
          const col = tensorToArrow(t, { name: "w" });
          const rest = shape.slice(1);
          const listSize = rest.reduce((a, b) => a * b, 1);
          // The field: name, FixedSizeList type, canonical extension metadata, exactly.
          assert.equal(col.field.name, "w");
          assert.equal(col.field.nullable, false);
          assert.ok(DataType.isFixedSizeList(col.field.type));
          assert.equal((col.field.type as FixedSizeList).listSize, listSize);
          assert.equal(String((col.field.type as FixedSizeList).valueType), ARROW_TYPE[dtype]);
          assert.equal(col.field.metadata.get(EXTENSION_NAME_KEY), "arrow.fixed_shape_tensor");
          assert.equal(col.field.metadata.get(EXTENSION_METADATA_KEY), `{"shape":[${rest.join(",")}]}`);
          assert.equal(col.field.metadata.get(DTYPE_METADATA_KEY), dtype === "bf16" || dtype === "ternary2" ? dtype : undefined);
          assert.equal(col.field.metadata.size, dtype === "bf16" || dtype === "ternary2" ? 3 : 2);
          assert.equal(col.vector.length, shape[0]);
          assert.equal(child(col.vector).length, t.numel);

          const back = tensorFromArrow(col);
          using([t, back], () => {
            assert.equal(back.dtype, dtype);
            assert.deepEqual(back.shape, shape);
            assert.deepEqual(back.values(), t.values());
            assert.deepEqual(bits(back), bits(t));
          });
        }),
      );
    }
  }

  it(
    "the Arrow side holds the tensor's rows (f32 [3, 2, 2] read through Vector.get)",
    leakFree(() => {
      const t = fromArray([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]]);
      using([t], () => {
        const { vector, field } = tensorToArrow(t, { dimNames: ["H", "W"] });
        assert.equal(field.name, "tensor");
        assert.equal(field.metadata.get(EXTENSION_METADATA_KEY), '{"shape":[2,2],"dim_names":["H","W"]}');
        assert.deepEqual(Array.from(vector.get(0) as Iterable<number>), [1, 2, 3, 4]);
        assert.deepEqual(Array.from(vector.get(2) as Iterable<number>), [9, 10, 11, 12]);
        assert.deepEqual(tensorColumnInfo(field), { dtype: "f32", shape: [2, 2], listSize: 4, extension: true, dimNames: ["H", "W"] });
      });
    }),
  );

  it(
    "a 1-D tensor becomes N rows of shape [] (list_size 1)",
    leakFree(() => {
      const t = fromArray([7, -8, 9], { dtype: "i32" });
      using([t], () => {
        const { field, vector } = tensorToArrow(t, { dimNames: [] });
        assert.equal((field.type as FixedSizeList).listSize, 1);
        assert.equal(field.metadata.get(EXTENSION_METADATA_KEY), '{"shape":[],"dim_names":[]}');
        assert.equal(vector.length, 3);
      });
    }),
  );

  it(
    "f32 special values keep their bits (NaN, -0, infinities, subnormals)",
    leakFree(() => {
      const raw = new Uint32Array([0x7fc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000]);
      const t = empty([2, 3]);
      (t.data() as Float32Array).set(new Float32Array(raw.buffer));
      const back = tensorFromArrow(tensorToArrow(t));
      using([t, back], () => assert.deepEqual(bits(back), Array.from(raw)));
    }),
  );

  for (const dtype of ["f32", "i8", "i32", "f16"] as const) {
    it(
      `a non-contiguous (transposed) ${dtype} tensor is copied in row-major order`,
      leakFree(() => {
        const base = sampleTensor(dtype, [3, 4]);
        const tr = base.transpose(0, 1);
        assert.equal(tr.isContiguous(), false);
        const col = tensorToArrow(tr);
        const back = tensorFromArrow(col);
        using([base, tr, back], () => {
          assert.equal(col.field.metadata.get(EXTENSION_METADATA_KEY), '{"shape":[3]}');
          assert.deepEqual(back.shape, [4, 3]);
          assert.deepEqual(back.values(), tr.values());
          // A copy: the column does not share the tensor's memory.
          assert.notEqual(child(col.vector).values.buffer, base.storageArray().buffer);
        });
      }),
    );
  }

  it(
    "reads a 'permutation' as a permuted view of the Arrow memory",
    leakFree(() => {
      // Two rows of physical shape [2, 3]; the logical dims are (physical 1, physical 0).
      const values = Float32Array.from({ length: 12 }, (_, i) => i);
      const col = handColumn(values, 2, 6, { [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR, [EXTENSION_METADATA_KEY]: '{"shape":[2,3],"permutation":[1,0]}' });
      const t = tensorFromArrow(col);
      using([t], () => {
        assert.deepEqual(t.shape, [2, 3, 2]);
        assert.deepEqual(t.toArray(), [
          [[0, 3], [1, 4], [2, 5]],
          [[6, 9], [7, 10], [8, 11]],
        ]);
        values[4] = 40; // physical [0, 1, 1] = logical [0, 1, 1]
        assert.equal(t.get(0, 1, 1), 40);
      });
    }),
  );

  it(
    "an identity permutation is dropped; a column without metadata reads as [rows, list_size]",
    leakFree(() => {
      const values = Int8Array.from({ length: 6 }, (_, i) => i - 3);
      const a = tensorFromArrow(handColumn(values, 2, 3, { [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR, [EXTENSION_METADATA_KEY]: '{"shape":[3],"permutation":[0]}' }));
      const b = tensorFromArrow(handColumn(values, 2, 3, {}).vector);
      const c = tensorFromArrow(makeVector(Int32Array.from([4, 5, 6])));
      using([a, b, c], () => {
        assert.deepEqual(a.shape, [2, 3]);
        assert.equal(a.isContiguous(), true);
        assert.deepEqual(b.shape, [2, 3]);
        assert.deepEqual(b.toArray(), [[-3, -2, -1], [0, 1, 2]]);
        assert.deepEqual(c.shape, [3]);
        assert.equal(c.dtype, "i32");
        assert.deepEqual(c.values(), [4, 5, 6]);
      });
    }),
  );
});

describe("zero copy", () => {
  for (const dtype of ["f32", "i8", "i32", "u8", "f16", "bf16"] as const) {
    it(
      `${dtype}: tensor -> Arrow shares memory; writes through either side are seen by the other`,
      leakFree(() => {
        const t = sampleTensor(dtype, [4, 6]);
        using([t], () => {
          const { vector } = tensorToArrow(t);
          const values = child(vector).values as Int8Array;
          const mine = t.data() as Int8Array;
          assert.equal(values.buffer, mine.buffer);
          assert.equal(values.byteOffset, mine.byteOffset);
          assert.equal(values.length, 24);
          mine[7] = 99;
          assert.equal(values[7], 99);
          values[20] = 42;
          assert.equal(mine[20], 42);
        });
      }),
    );
  }

  for (const [dtype, Ctor] of [["f32", Float32Array], ["i8", Int8Array], ["i32", Int32Array]] as const) {
    it(
      `${dtype}: Arrow -> tensor wraps the Arrow memory; writes through either side are seen by the other`,
      leakFree(() => {
        const values = new Ctor(40).map((_, i) => i - 20);
        // A view at a non-zero offset of a larger buffer, as IPC reading gives.
        const big = new Ctor(values.length + 16);
        big.set(values, 8);
        const view = big.subarray(8, 8 + values.length) as typeof values;
        const col = handColumn(view, 10, 4, { [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR, [EXTENSION_METADATA_KEY]: '{"shape":[2,2]}' });
        const nativeBefore = memoryStats().nativeBytes;
        const t = tensorFromArrow(col);
        using([t], () => {
          assert.deepEqual(t.shape, [10, 2, 2]);
          assert.equal(memoryStats().nativeBytes, nativeBefore, "no native allocation");
          const mine = t.data();
          assert.equal(mine.buffer, big.buffer);
          assert.equal(mine.byteOffset, view.byteOffset);
          mine[3] = 77;
          assert.equal(view[3], 77);
          view[39] = -5;
          assert.equal(t.get(9, 1, 1), -5);
        });
        // Disposing the tensor leaves the caller's memory alone.
        assert.equal(view[3], 77);
      }),
    );
  }

  it(
    "a 64 MiB f32 tensor [4096, 4096] goes to Arrow and back without a copy",
    leakFree(() => {
      const t = empty([4096, 4096]);
      const data = t.data();
      data.fill(0.5);
      data[0] = 1;
      data[data.length - 1] = -2;
      const nativeBefore = memoryStats().nativeBytes;
      const col = tensorToArrow(t);
      const back = tensorFromArrow(col);
      using([t, back], () => {
        assert.equal(memoryStats().nativeBytes, nativeBefore, "no native allocation on the way");
        const values = child(col.vector).values as Float32Array;
        const out = back.data();
        assert.equal(values.buffer, data.buffer, "Arrow's values are the tensor's buffer");
        assert.equal(values.byteOffset, data.byteOffset);
        assert.equal(out.buffer, data.buffer, "the tensor read back wraps the same buffer");
        assert.equal(out.byteOffset, data.byteOffset);
        assert.equal(out.length, 4096 * 4096);
        assert.deepEqual(back.shape, [4096, 4096]);
        out[12345] = 3.25;
        assert.equal(data[12345], 3.25);
        assert.equal(values[12345], 3.25);
        data[4096 * 4096 - 2] = 7;
        assert.equal(back.get(4095, 4094), 7);
        assert.equal(back.get(0, 0), 1);
        assert.equal(back.get(4095, 4095), -2);
      });
    }),
  );

  it(
    "a column of several chunks is copied (the tensor owns its memory)",
    leakFree(() => {
      const a = fromArray([[1, 2], [3, 4]]);
      const b = fromArray([[5, 6]]);
      using([a, b], () => {
        const ca = tensorToArrow(a);
        const cb = tensorToArrow(b);
        const vector = new Vector([...ca.vector.data, ...cb.vector.data]);
        const t = tensorFromArrow({ field: ca.field, vector });
        using([t], () => {
          assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
          t.data()[0] = 100;
          assert.equal(a.get(0, 0), 1);
        });
      });
    }),
  );

  it(
    "ternary2 crosses as unpacked Int8 (a copy) and packs again",
    leakFree(() => {
      const t = fromArray([[-1, 0, 1, 1, 0], [1, 1, -1, 0, -1]], { dtype: "ternary2" });
      const col = tensorToArrow(t);
      const back = tensorFromArrow(col);
      using([t, back], () => {
        assert.deepEqual(Array.from(child(col.vector).values as Int8Array), [-1, 0, 1, 1, 0, 1, 1, -1, 0, -1]);
        assert.equal(back.dtype, "ternary2");
        assert.deepEqual(back.toArray(), t.toArray());
      });
    }),
  );
});

describe("tables", () => {
  it(
    "tensorsToTable / tableToTensors: tensor columns round-trip, other columns are skipped",
    leakFree(() => {
      const x = sampleTensor("f32", [4, 3]);
      const y = sampleTensor("i32", [4]);
      const w = sampleTensor("bf16", [4, 2, 2]);
      const z: TensorColumn = { field: new Field("ignored-name", new Float64(), false), vector: makeVector(new Float64Array([0.1, 0.2, 0.3, 1e300])) };
      const s = vectorFromArray(["a", "b", "c", "d"]);
      using([x, y, w], () => {
        const table = tensorsToTable({ x, y, w, z, s });
        assert.equal(table.numRows, 4);
        assert.deepEqual(table.schema.fields.map((f) => f.name), ["x", "y", "w", "z", "s"]);
        assert.equal(table.schema.fields[3].nullable, false);
        assert.equal(table.batches.length, 1);
        // Zero copy into the table too.
        assert.equal(table.getChild("x")!.data[0].children[0].values.buffer, x.data().buffer);
        const out = tableToTensors(table);
        using(Object.values(out), () => {
          assert.deepEqual(Object.keys(out), ["x", "y", "w"]);
          assert.deepEqual(out.x.values(), x.values());
          assert.deepEqual(out.y.values(), y.values());
          assert.equal(out.w.dtype, "bf16");
          assert.deepEqual(out.w.shape, [4, 2, 2]);
          assert.deepEqual(bits(out.w), bits(w));
        });
        const only = tensorFromArrow(table, "w");
        only.dispose();
      });
    }),
  );

  it(
    "columns chunked differently are split into aligned record batches",
    leakFree(() => {
      const r = arange(0, 6, 1, { dtype: "f32" });
      const x = r.reshape([6, 1]);
      const y = fromArray([10, 11, 12, 13, 14, 15], { dtype: "i32" });
      using([r, x, y], () => {
        const cx = tensorToArrow(x);
        const dx = cx.vector.data[0];
        const cy = tensorToArrow(y);
        const dy = cy.vector.data[0];
        const xchunks: TensorColumn = { field: cx.field, vector: new Vector([dx.slice(0, 2), dx.slice(2, 2), dx.slice(4, 2)]) };
        const ychunks: TensorColumn = { field: cy.field, vector: new Vector([dy.slice(0, 3), dy.slice(3, 3)]) };
        const shortX: TensorColumn = { field: cx.field, vector: new Vector([dx.slice(0, 2), dx.slice(2, 2)]) };
        assert.throws(() => tensorsToTable({ x: shortX, y: ychunks }), /column 'y' has 6 rows, column 'x' has 4/);
        const table = tensorsToTable({ x: xchunks, y: ychunks });
        assert.deepEqual(table.batches.map((b) => b.numRows), [2, 1, 1, 2]);
        const out = tableToTensors(table);
        using(Object.values(out), () => {
          assert.deepEqual(out.x.toArray(), [[0], [1], [2], [3], [4], [5]]);
          assert.deepEqual(out.y.values(), [10, 11, 12, 13, 14, 15]);
        });
      });
    }),
  );

  it(
    "a table of zero rows keeps its shapes",
    leakFree(() => {
      const x = zeros([0, 7]);
      using([x], () => {
        const table = tensorsToTable({ x });
        assert.equal(table.numRows, 0);
        const out = tableToTensors(table);
        using(Object.values(out), () => assert.deepEqual(out.x.shape, [0, 7]));
      });
    }),
  );
});

describe("bad input", () => {
  it(
    "tensorToArrow: wrong argument kinds and shapes",
    leakFree(() => {
      assert.throws(() => tensorToArrow(new Float32Array(3) as never), { name: "TypeError", message: /tensorToArrow: t must be a Tensor, received Float32Array\(3\)/ });
      const t = fromArray([[1, 2], [3, 4]]);
      const scalar = fromArray(5);
      using([t, scalar], () => {
        assert.throws(() => tensorToArrow(t, "x" as never), { name: "TypeError", message: /options must be an object/ });
        assert.throws(() => tensorToArrow(t, { name: 3 as never }), { name: "TypeError", message: /name must be a string/ });
        assert.throws(() => tensorToArrow(t, { dimNames: "HW" as never }), { name: "TypeError", message: /dimNames must be an array/ });
        assert.throws(() => tensorToArrow(t, { dimNames: ["a", "b"] }), { name: "RangeError", message: /dimNames must name the 1 dimensions after the row dimension of shape \[2, 2\], received 2/ });
        assert.throws(() => tensorToArrow(t, { dimNames: [5 as never] }), { name: "TypeError", message: /dimNames\[0\] must be a string/ });
        assert.throws(() => tensorToArrow(scalar, { name: "s" }), { name: "RangeError", message: /0-d tensor .*reshape it to \[1\].*column 's'/ });
      });
      assert.throws(() => tensorToArrow(t), { name: "TypeError", message: /tensorToArrow: t was disposed/ });
    }),
  );

  it(
    "tensorsToTable: wrong kinds and mismatched row counts name the column",
    leakFree(() => {
      const a = zeros([3, 2]);
      const b = zeros([4]);
      using([a, b], () => {
        assert.throws(() => tensorsToTable(a as never), { name: "TypeError", message: /columns must be an object mapping names/ });
        assert.throws(() => tensorsToTable([a] as never), { name: "TypeError" });
        assert.throws(() => tensorsToTable({}), { name: "RangeError", message: /at least one column/ });
        assert.throws(() => tensorsToTable({ a, q: 5 as never }), { name: "TypeError", message: /column 'q' must be a Tensor, a TensorColumn/ });
        assert.throws(() => tensorsToTable({ a, b }), { name: "RangeError", message: /column 'b' has 4 rows, column 'a' has 3/ });
        assert.throws(() => tensorsToTable({ a: { field: "f", vector: makeVector(new Float32Array(3)) } as never }), { name: "TypeError", message: /column 'a': field must be an Arrow Field/ });
        assert.throws(() => tensorsToTable({ a: { field: new Field("a", new Float64()), vector: makeVector(new Float32Array(3)) } }), {
          name: "TypeError",
          message: /column 'a': the field's type Float64 differs from the vector's Float32/,
        });
      });
      const gone = zeros([2]);
      gone.dispose();
      assert.throws(() => tensorsToTable({ gone }), { name: "TypeError", message: /column 'gone': the tensor was disposed/ });
      assert.throws(() => tableToTensors({} as never), { name: "TypeError", message: /tableToTensors: table must be an Arrow Table/ });
    }),
  );

  it(
    "tensorFromArrow: wrong sources and columns",
    leakFree(() => {
      assert.throws(() => tensorFromArrow(42 as never), { name: "TypeError", message: /tensorFromArrow: source must be a TensorColumn/ });
      assert.throws(() => tensorFromArrow({ field: 1, vector: 2 } as never), { name: "TypeError", message: /source.field must be an Arrow Field/ });
      const a = zeros([2, 2]);
      const b = zeros([2]);
      using([a, b], () => {
        const table = tensorsToTable({ a, b });
        assert.throws(() => tensorFromArrow(table), { name: "TypeError", message: /pass the column name; the table has 2 tensor columns among \['a', 'b'\]/ });
        assert.throws(() => tensorFromArrow(table, "nope"), { name: "RangeError", message: /no column 'nope' in the table \(columns: 'a', 'b'\)/ });
        assert.throws(() => tensorFromArrow(table, 3 as never), { name: "TypeError", message: /column must be a string/ });
        assert.throws(() => tensorFromArrow(tensorToArrow(a), "a"), { name: "TypeError", message: /column is only used with a Table/ });
        const single = tensorFromArrow(tensorsToTable({ a }));
        single.dispose();
      });
    }),
  );

  const ext = (json: string): Record<string, string> => ({ [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR, [EXTENSION_METADATA_KEY]: json });
  const hostile: [string, Record<string, string>, string, RegExp][] = [
    ["not JSON", ext("{shape: [3]"), "TypeError", /column 'h': ARROW:extension:metadata is not valid JSON/],
    ["a JSON array", ext("[3]"), "TypeError", /column 'h': ARROW:extension:metadata must be a JSON object, received an array/],
    ["JSON null", ext("null"), "TypeError", /must be a JSON object, received null/],
    ["no shape", ext("{}"), "TypeError", /column 'h': the metadata's "shape" must be an array of integers, received undefined/],
    ["shape only inherited", ext('{"__proto__":{"shape":[3]}}'), "TypeError", /"shape" must be an array/],
    ["shape a string", ext('{"shape":"3"}'), "TypeError", /"shape" must be an array of integers, received '3'/],
    ["a negative dimension", ext('{"shape":[-3]}'), "RangeError", /column 'h': the metadata's shape\[0\] must be a non-negative integer, received -3/],
    ["a fractional dimension", ext('{"shape":[1.5,2]}'), "RangeError", /shape\[0\] must be a non-negative integer, received 1.5/],
    ["a string dimension", ext('{"shape":["3"]}'), "RangeError", /shape\[0\] must be a non-negative integer, received '3'/],
    ["a huge dimension", ext('{"shape":[1e300]}'), "RangeError", /shape\[0\] must be a non-negative integer, received 1e\+300/],
    ["huge dimensions", ext('{"shape":[4294967296,4294967296]}'), "RangeError", /has more than 2\^53 elements but the FixedSizeList's list_size is 3/],
    ["a product not matching list_size", ext('{"shape":[2]}'), "RangeError", /column 'h': the metadata's shape \[2\] has 2 elements but the FixedSizeList's list_size is 3/],
    ["too many dimensions", ext(`{"shape":[${Array(20).fill(1).join(",")}]}`), "RangeError", /"shape" has 20 dimensions; at most 15/],
    ["bad dim_names", ext('{"shape":[3],"dim_names":[1]}'), "TypeError", /"dim_names" must be an array of 1 strings/],
    ["dim_names of the wrong length", ext('{"shape":[3],"dim_names":["a","b"]}'), "TypeError", /"dim_names" must be an array of 1 strings/],
    ["a bad permutation", ext('{"shape":[3,1],"permutation":[0,0]}'), "RangeError", /"permutation" must be a permutation of 0..1/],
    ["no extension metadata", { [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR }, "TypeError", /names arrow.fixed_shape_tensor but has no ARROW:extension:metadata/],
    ["another extension type", { [EXTENSION_NAME_KEY]: "acme.blob" }, "TypeError", /column 'h': the field has extension type 'acme.blob', expected 'arrow.fixed_shape_tensor'/],
    ["an unknown dtype tag", { ...ext('{"shape":[3]}'), [DTYPE_METADATA_KEY]: "f64" }, "TypeError", /bitnet_lab:dtype must be 'bf16' or 'ternary2', received 'f64'/],
    ["a dtype tag not matching the values", { ...ext('{"shape":[3]}'), [DTYPE_METADATA_KEY]: "bf16" }, "TypeError", /bitnet_lab:dtype 'bf16' needs Uint16 values, the column holds Float32/],
  ];
  for (const [what, metadata, name, message] of hostile) {
    it(
      `hostile metadata: ${what}`,
      leakFree(() => {
        const col = handColumn(new Float32Array(6), 2, 3, metadata);
        assert.throws(() => tensorFromArrow(col), { name, message });
        if (metadata[EXTENSION_NAME_KEY] === FIXED_SHAPE_TENSOR) {
          const table = tensorsToTable({ h: col });
          assert.throws(() => tableToTensors(table), { name, message });
          assert.throws(() => tensorColumnInfo(col.field), { name, message: /tensorColumnInfo: column 'h'/ });
        }
      }),
    );
  }

  it(
    "unsupported element types name the column and the type",
    leakFree(() => {
      const f64Type = new FixedSizeList(2, new Field("item", new Float64(), true));
      const f64 = makeData({ type: f64Type, length: 2, nullCount: 0, child: makeData({ type: new Float64(), length: 4, nullCount: 0, data: new Float64Array(4) }) });
      const col = { field: new Field("d", f64Type, false, new Map([[EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR], [EXTENSION_METADATA_KEY, '{"shape":[2]}']])), vector: makeVector(f64) };
      assert.throws(() => tensorFromArrow(col), { name: "TypeError", message: /column 'd': element type Float64 is not supported/ });
      const u16 = makeVector(new Uint16Array(3));
      assert.throws(() => tensorFromArrow(u16), { name: "TypeError", message: /vector: element type Uint16 is not supported .*bitnet_lab:dtype=bf16/ });
      const strings = vectorFromArray(["a"], new Utf8());
      assert.throws(() => tensorFromArrow(strings), { name: "TypeError", message: /element type Utf8 is not supported/ });
      const flat = { field: new Field("p", new Float32(), false, new Map([[EXTENSION_NAME_KEY, FIXED_SHAPE_TENSOR], [EXTENSION_METADATA_KEY, '{"shape":[]}']])), vector: makeVector(new Float32Array(2)) };
      assert.throws(() => tensorFromArrow(flat), { name: "TypeError", message: /column 'p': a arrow.fixed_shape_tensor column must be a FixedSizeList, it is Float32/ });
      const mismatch = { field: new Field("m", new Uint16(), false), vector: makeVector(new Float32Array(2)) };
      assert.throws(() => tensorFromArrow(mismatch), { name: "TypeError", message: /column 'm': the field's type Uint16 differs from the vector's Float32/ });
    }),
  );

  it(
    "nulls, short buffers and invalid ternary values are refused",
    leakFree(() => {
      const meta = { [EXTENSION_NAME_KEY]: FIXED_SHAPE_TENSOR, [EXTENSION_METADATA_KEY]: '{"shape":[2]}' };
      const listType = new FixedSizeList(2, new Field("item", new Float32(), true));
      const childData = makeData({ type: new Float32(), length: 4, nullCount: 0, data: new Float32Array(4) });
      const withNull = makeData({ type: listType, length: 2, nullCount: 1, nullBitmap: new Uint8Array([0b01]), child: childData });
      const field = new Field("n", listType, true, new Map(Object.entries(meta)));
      assert.throws(() => tensorFromArrow({ field, vector: makeVector(withNull) }), { name: "RangeError", message: /column 'n' \(chunk 0\): 1 of 2 rows are null/ });
      const short = makeData({ type: listType, length: 3, nullCount: 0, child: childData });
      assert.throws(() => tensorFromArrow({ field, vector: makeVector(short) }), { name: "RangeError", message: /column 'n' \(chunk 0\): the child array holds 4 values, 6 needed for 3 rows/ });
      const tern = handColumn(Int8Array.from([1, 0, -1, 2]), 2, 2, { ...meta, [DTYPE_METADATA_KEY]: "ternary2" }, "t");
      assert.throws(() => tensorFromArrow(tern), { name: "RangeError", message: /column 't': not a valid ternary2 column: .*element 3 is 2/ });
    }),
  );

  it(
    "a column whose tensor was disposed reads as released memory, not garbage",
    leakFree(() => {
      const t = fromArray([[1, 2], [3, 4]]);
      const col = tensorToArrow(t);
      t.dispose();
      assert.throws(() => tensorFromArrow(col), { name: "RangeError", message: /holds 0 values, 4 needed .*released memory/ });
    }),
  );

  it(
    "a tensor wrapping caller memory survives GC of the caller's array",
    leakFree(() => {
      const t = (() => {
        const arr = Float32Array.from([1, 2, 3, 4]);
        return wrap(arr, { shape: [2, 2] });
      })();
      const col = tensorToArrow(t);
      const back = tensorFromArrow(col);
      (globalThis as { gc?: () => void }).gc?.();
      using([t, back], () => assert.deepEqual(back.values(), [1, 2, 3, 4]));
    }),
  );
});
