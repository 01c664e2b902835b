// Every file-format error shares the FormatError base and names its format.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ArrowFormatError, FormatError, GGUFFormatError, HFFormatError, HFTokenizer, PackedModelFormatError, SafetensorsFormatError, loadPackedModel } from "../../src";
import { parseGGUF, parseSafetensors } from "../../src/io";
import { tableFromIPCBytes } from "../../src/arrow";

test("GGUF, safetensors, Arrow, Hugging Face and packed-model errors are FormatErrors naming their format", () => {
  const garbage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-format-"));
  const notAModel = path.join(dir, "model.safetensors");
  // A valid safetensors file that is not a packed model.
  fs.writeFileSync(notAModel, Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{}")]));
  try {
    const cases: [() => unknown, new (...a: never[]) => FormatError, string][] = [
      [() => parseGGUF(garbage), GGUFFormatError, "GGUF"],
      [() => parseSafetensors(garbage), SafetensorsFormatError, "safetensors"],
      [() => tableFromIPCBytes(garbage), ArrowFormatError, "Arrow IPC"],
      [() => HFTokenizer.fromJSON({ model: { type: "Unigram" } }), HFFormatError, "Hugging Face"],
      [() => loadPackedModel(notAModel), PackedModelFormatError, "packed model"],
    ];
    for (const [call, cls, format] of cases) {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof cls, `${cls.name}: got ${(e as Error).name}: ${(e as Error).message}`);
        assert.ok(e instanceof FormatError);
        assert.equal((e as FormatError).format, format);
        assert.equal((e as Error).name, cls.name);
        return true;
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("argument errors carry fn and arg, from TypeScript checks and from the addon; renameFunction edits the fields, not the text", async () => {
  const { checkInteger, renameFunction } = await import("../../src/validate");
  const native = await import("../../src/backend/kernels");
  const fromTs = (() => {
    try {
      checkInteger("Trainer.fit", "steps", 1.5, 1);
    } catch (e) {
      return e as RangeError & { fn: string; arg: string };
    }
    throw new Error("checkInteger accepted 1.5");
  })();
  assert.ok(fromTs instanceof RangeError);
  assert.deepEqual([fromTs.fn, fromTs.arg, fromTs.message], ["Trainer.fit", "steps", "Trainer.fit: steps must be an integer >= 1, received 1.5"]);
  const fromAddon = (() => {
    try {
      native.sumSquares("x" as unknown as Float32Array);
    } catch (e) {
      return e as TypeError & { fn: string; arg: string };
    }
    throw new Error("sumSquares accepted a string");
  })();
  assert.ok(fromAddon instanceof TypeError);
  assert.deepEqual([fromAddon.fn, fromAddon.arg], ["sumSquares", "x"]);
  assert.match(fromAddon.message, /^sumSquares: argument 'x' must be a Float32Array/);
  const renamed = renameFunction(fromAddon, "clipGradNorm") as TypeError & { fn: string };
  assert.equal(renamed.fn, "clipGradNorm");
  assert.match(renamed.message, /^clipGradNorm: argument 'x' must be a Float32Array/);
  const plain = new Error("sumSquares: something else");
  assert.equal((renameFunction(plain, "other") as Error).message, "sumSquares: something else", "errors without fields pass unchanged");
});
