// Every user-facing reader refuses special files with a named error instead of reading forever:
// /dev/zero (endless) and a FIFO (blocks without a writer), for Arrow files, text datasets and
// the notebooks `bitnet-lab run` executes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TextDataset, readArrowFile } from "../../src";
import { readNotebook } from "../../kernel/runner/notebook";

test("readArrowFile, TextDataset.fromFile and the notebook runner refuse /dev/zero and FIFOs", { timeout: 20_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-special-"));
  const fifo = path.join(dir, "pipe");
  const made = spawnSync("mkfifo", [fifo]);
  try {
    const targets = ["/dev/zero", ...(made.status === 0 ? [fifo] : [])];
    assert.ok(targets.length === 2 || process.platform === "win32", "mkfifo made a FIFO");
    for (const target of targets) {
      assert.throws(() => readArrowFile(target), new RegExp(`readArrowFile: cannot read '${target}': it is not a regular file$`));
      assert.throws(() => TextDataset.fromFile(target), new RegExp(`TextDataset\\.fromFile: cannot read '${target}': it is not a regular file$`));
      assert.throws(() => readNotebook(target), /not a readable notebook \(bitnet-lab run: cannot read .*: it is not a regular file\)/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
