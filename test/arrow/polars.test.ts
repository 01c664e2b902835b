// An independent reader (nodejs-polars, Rust's polars behind N-API) reads the IPC files we write.
//
// nodejs-polars 0.25 refuses every column that carries `ARROW:extension:name` (polars-core 0.54
// has no extension-type support: "cannot create series from Extension(...)"), so the files it
// must read are written with `extensionTypes: false` (plain FixedSizeList columns, the layout
// kept under `bitnet_lab:fixed_shape_tensor`). The canonical file is tried as well: polars must
// either read it identically or refuse the extension type, which is what 0.25.2 does.
import { after, before, describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Field, Float64, makeVector } from "apache-arrow";

import { readArrowFile, tableToTensors, tensorsToTable, writeArrowFile } from "../../src/arrow";
import { Tensor } from "../../src/tensor/tensor";
import { leakFree, sampleTensor, using } from "./helpers";

type Polars = typeof import("nodejs-polars").default;

/** Loads nodejs-polars, or says why it cannot be loaded (its native part is a separate package). */
function loadPolars(): { pl?: Polars; why?: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require("nodejs-polars") as { default?: Polars } & Polars;
    return { pl: mod.default ?? mod };
  } catch (e) {
    return { why: String((e as Error)?.message ?? e).split("\n")[0] };
  }
}

const { pl, why } = loadPolars();
const skip =
  pl === undefined && !process.env.CI
    ? `nodejs-polars cannot load here (${why}); its native part nodejs-polars-linux-x64-gnu comes with 'npm ci'. This test fails instead when CI is set.`
    : false;
if (skip) console.log(`# polars.test: skipped: ${skip}`);

let dir = "";
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-polars-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const N = 37;

/** The table of the acceptance test: f32 [N, 3], i32 [N] and a plain Float64 column. */
function makeTable(): { x: Tensor; y: Tensor; z: Float64Array; table: ReturnType<typeof tensorsToTable> } {
  const x = sampleTensor("f32", [N, 3]);
  const y = sampleTensor("i32", [N]);
  const z = Float64Array.from({ length: N }, (_, i) => (i - 18) / 7 + (i === 5 ? 1e300 : 0));
  const table = tensorsToTable({ x, y, z: { field: new Field("z", new Float64(), false), vector: makeVector(z) } });
  return { x, y, z, table };
}

/** Compares every value polars read with ours. */
function assertSameFrame(df: ReturnType<Polars["readIPC"]>, x: Tensor, y: Tensor, z: Float64Array): void {
  assert.deepEqual(df.columns, ["x", "y", "z"]);
  assert.equal(df.height, N);
  const xs = df.getColumn("x").toArray() as unknown as number[][];
  const ys = df.getColumn("y").toArray() as unknown as number[][];
  const zs = df.getColumn("z").toArray() as unknown as number[];
  assert.deepEqual(xs, x.toArray(), "x: every element");
  assert.deepEqual(
    ys.map((row) => row[0]),
    y.values(),
    "y: every element",
  );
  assert.deepEqual(Array.from(zs), Array.from(z), "z: every element");
  assert.match(String(df.getColumn("x").dtype), /Float32/);
  assert.match(String(df.getColumn("y").dtype), /Int32/);
  assert.match(String(df.getColumn("z").dtype), /Float64/);
}

describe("independent reader: nodejs-polars", () => {
  it("loads (its native part is installed)", { skip }, () => {
    assert.ok(pl, `nodejs-polars cannot load: ${why}`);
  });

  for (const format of ["file", "stream"] as const) {
    it(
      `reads an IPC ${format} we wrote: every value identical`,
      { skip },
      leakFree(() => {
        assert.ok(pl, `nodejs-polars cannot load: ${why}`);
        const { x, y, z, table } = makeTable();
        using([x, y], () => {
          const p = path.join(dir, `interop.${format}`);
          writeArrowFile(p, table, { format, extensionTypes: false });
          // A path string would be taken as the file's contents: pass a Buffer.
          const bytes = fs.readFileSync(p);
          const df = format === "file" ? pl.readIPC(bytes) : pl.readIPCStream(bytes);
          assertSameFrame(df, x, y, z);
          // And we still read our own file back as tensors.
          const back = tableToTensors(readArrowFile(p));
          using(Object.values(back), () => {
            assert.deepEqual(back.x.values(), x.values());
            assert.deepEqual(back.y.values(), y.values());
            assert.deepEqual(back.y.shape, [N]);
          });
        });
      }),
    );
  }

  it(
    "the canonical extension file: read identically, or the extension type refused by name",
    { skip },
    leakFree(() => {
      assert.ok(pl, `nodejs-polars cannot load: ${why}`);
      const { x, y, z, table } = makeTable();
      using([x, y], () => {
        const p = path.join(dir, "canonical.arrow");
        writeArrowFile(p, table);
        let df: ReturnType<Polars["readIPC"]> | undefined;
        try {
          console.log("# polars.test: polars 0.25 may print a Rust panic message for the extension column next; it is expected");
          df = pl.readIPC(fs.readFileSync(p));
        } catch (e) {
          assert.match(String((e as Error).message), /Extension.*arrow\.fixed_shape_tensor/);
        }
        if (df !== undefined) assertSameFrame(df, x, y, z);
        // Projection to the plain column works either way.
        const only = pl.readIPC(fs.readFileSync(p), { columns: ["z"] });
        assert.deepEqual(Array.from(only.getColumn("z").toArray() as unknown as number[]), Array.from(z));
      });
    }),
  );
});
