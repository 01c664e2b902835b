// Model files in memory: mapped (copy-on-write, released at once, views detached) or read; a
// packed model loaded from a mapped file gives the same logits and unmaps when disposed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isMappedBytes, readFileBytes, releaseFileBytes, releaseFilePages } from "../../src/io/file-bytes";
import { addon } from "../../src/backend/addon";

test("mapped and read bytes are the file's; a write to a mapping stays private; release detaches every view", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-map-"));
  try {
    const file = path.join(dir, "f.bin");
    const content = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 31) & 255);
    fs.writeFileSync(file, content);
    const m = readFileBytes(file, "t", { map: true });
    const r = readFileBytes(file, "t", { map: false });
    assert.ok(isMappedBytes(m) && !isMappedBytes(r));
    assert.deepEqual(m, content);
    assert.deepEqual(r, content);
    // Pages given back stay readable: they load again from the file.
    releaseFilePages(m.subarray(4096, 8192));
    releaseFilePages(m.subarray(1, 9999));
    assert.deepEqual(m, content);
    assert.throws(() => addon().releaseMappedPages(m.buffer as ArrayBuffer, 5000, 6000), /releaseMappedPages: argument 'byteLength' must be at most 5000 \(the mapping's 10000 bytes from byteOffset\), received 6000/);
    assert.throws(() => addon().releaseMappedPages(new ArrayBuffer(8), 0, 1), /releaseMappedPages: argument 'buffer' must be a live ArrayBuffer returned by mapFile\(\)/);
    releaseFilePages(r.subarray(0, 100));
    const f32 = new Float32Array(m.buffer, 0, 4);
    m[0] = 255;
    assert.equal(fs.readFileSync(file)[0], 0, "the file is unchanged");
    releaseFileBytes(m);
    assert.equal(m.length, 0, "the view is detached");
    assert.equal(f32.length, 0, "and every other view");
    releaseFileBytes(m);
    releaseFileBytes(r);
    assert.equal(r.length, 10_000, "read bytes are left alone");
    assert.equal(readFileBytes(file, "t").length, 10_000, "small files are read by default");
    fs.writeFileSync(path.join(dir, "empty"), "");
    assert.equal(readFileBytes(path.join(dir, "empty"), "t", { map: true }).length, 0);
    assert.throws(() => readFileBytes(path.join(dir, "missing"), "load", { map: true }), /^Error: load: cannot read '.*missing': /);
    assert.throws(() => readFileBytes(dir, "load", { map: true }), /^Error: load: cannot read '.*': .*director/i);
    assert.throws(() => addon().mapFile(dir), /mapFile: '.*' is not a regular file/);
    assert.throws(() => addon().unmapFile(new ArrayBuffer(8)), /unmapFile: argument 'buffer' must be an ArrayBuffer returned by mapFile\(\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
