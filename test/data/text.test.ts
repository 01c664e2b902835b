import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { tableFromArrays } from "apache-arrow";

import { ByteTokenizer, CharTokenizer, SPLIT_BLOCK_TOKENS, TextDataset, TokenBatch, splitTokens } from "../../src/data";
import { tensorsToTable } from "../../src/arrow";
import { fromArray } from "../../src/tensor/create";
import { Generator } from "../../src/tensor/random";
import { memoryStats } from "../../src/tensor/storage";

/** Ids 0, 1, ..., n-1: every token says where it came from. */
function iota(n: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return ids;
}

/** The PyTorch reference, transcribed literally: blocks of 4096, block i is validation iff i % 10 == 9. */
function referenceSplit(ids: Int32Array): { train: number[]; validation: number[] } {
  const train: number[] = [];
  const validation: number[] = [];
  for (let start = 0, i = 0; start < ids.length; start += 4096, i++) {
    const block = Array.from(ids.subarray(start, start + 4096));
    (i % 10 === 9 ? validation : train).push(...block);
  }
  return { train, validation };
}

function disposeBatch(b: TokenBatch): void {
  b.inputs.dispose();
  b.targets.dispose();
}

/** Runs `body`; the live tensor count must be unchanged afterwards. */
function leakFree(body: () => void): () => void {
  return () => {
    (globalThis as { gc?: () => void }).gc?.();
    const before = memoryStats().liveTensors;
    body();
    assert.equal(memoryStats().liveTensors, before, "live tensors after the test (something was not disposed)");
  };
}

describe("train/validation split", () => {
  it("cuts 50,000 tokens at the hand-computed block boundaries", () => {
    // 50,000 = 12 full blocks (0..11, 49,152 tokens) + a partial block 12 of 848 tokens.
    // Only block 9, tokens [36864, 40960), is validation.
    const ds = new TextDataset(iota(50_000));
    assert.equal(SPLIT_BLOCK_TOKENS, 4096);
    assert.equal(ds.validation.length, 4096);
    assert.equal(ds.train.length, 45_904);
    assert.equal(ds.length, 50_000);
    assert.equal(ds.validation[0], 36_864);
    assert.equal(ds.validation[4095], 40_959);
    assert.equal(ds.train[0], 0);
    assert.equal(ds.train[36_863], 36_863); // last token of block 8
    assert.equal(ds.train[36_864], 40_960); // first token of block 10 follows it
    assert.equal(ds.train[45_903], 49_999);
    assert.equal(ds.vocabSize, 50_000);
  });

  it("takes blocks 9 and 19 of 100,000 tokens, and a partial validation block", () => {
    const ds = new TextDataset(iota(100_000));
    assert.equal(ds.validation.length, 8192);
    assert.equal(ds.train.length, 91_808);
    assert.equal(ds.validation[4095], 40_959);
    assert.equal(ds.validation[4096], 77_824); // 19 * 4096
    assert.equal(ds.train[9 * 4096 + 9 * 4096], 20 * 4096); // after 18 training blocks comes block 20
    // 9 blocks + 100 tokens: the last, partial block is block 9, so validation is those 100.
    const small = new TextDataset(iota(9 * 4096 + 100));
    assert.equal(small.validation.length, 100);
    assert.equal(small.validation[0], 36_864);
    assert.equal(small.train.length, 36_864);
  });

  it("matches the reference on lengths around the block edges", () => {
    for (const n of [1, 4095, 4096, 4097, 36_864, 36_865, 40_960, 40_961, 81_919, 81_920, 81_921, 123_457]) {
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) ids[i] = (i * 7919) % 1000;
      const got = splitTokens(ids);
      const want = referenceSplit(ids);
      assert.deepEqual(Array.from(got.train), want.train, `train, n = ${n}`);
      assert.deepEqual(Array.from(got.validation), want.validation, `validation, n = ${n}`);
    }
  });
});

describe("TextDataset.batch", () => {
  const ds = new TextDataset(iota(50_000));

  it(
    "gives train[i : i+T] and train[i+1 : i+T+1] for random i",
    leakFree(() => {
      const b = ds.batch(8, 64, new Generator(1));
      try {
        assert.deepEqual(b.inputs.shape, [8, 64]);
        assert.deepEqual(b.targets.shape, [8, 64]);
        assert.equal(b.inputs.dtype, "i32");
        const x = b.inputs.data();
        const y = b.targets.data();
        for (let r = 0; r < 8; r++) {
          const i = ds.train.indexOf(x[r * 64]); // ids are unique, so this is the offset
          assert.ok(i >= 0 && i < ds.train.length - 64 - 1, `offset ${i}`);
          assert.deepEqual(Array.from(x.subarray(r * 64, (r + 1) * 64)), Array.from(ds.train.subarray(i, i + 64)));
          assert.deepEqual(Array.from(y.subarray(r * 64, (r + 1) * 64)), Array.from(ds.train.subarray(i + 1, i + 65)));
          // targets are the inputs shifted by one
          assert.deepEqual(Array.from(y.subarray(r * 64, (r + 1) * 64 - 1)), Array.from(x.subarray(r * 64 + 1, (r + 1) * 64)));
        }
      } finally {
        disposeBatch(b);
      }
    }),
  );

  it(
    "is deterministic in the seed",
    leakFree(() => {
      const a = ds.batch(4, 32, new Generator(42));
      const b = ds.batch(4, 32, new Generator(42));
      const c = ds.batch(4, 32, new Generator(43));
      const g = new Generator(42);
      const first = ds.batch(4, 32, g);
      const second = ds.batch(4, 32, g);
      try {
        assert.deepEqual(Array.from(a.inputs.data()), Array.from(b.inputs.data()));
        assert.deepEqual(Array.from(a.targets.data()), Array.from(b.targets.data()));
        assert.notDeepEqual(Array.from(a.inputs.data()), Array.from(c.inputs.data()));
        assert.deepEqual(Array.from(first.inputs.data()), Array.from(a.inputs.data()));
        assert.notDeepEqual(Array.from(second.inputs.data()), Array.from(first.inputs.data())); // the generator advanced
      } finally {
        [a, b, c, first, second].forEach(disposeBatch);
      }
    }),
  );

  it(
    "draws offsets uniformly from [0, len - T - 1)",
    leakFree(() => {
      // 10 training tokens, T = 1: offsets 0..7 (8 would leave no room for the last target).
      const tiny = new TextDataset(iota(10));
      const b = tiny.batch(4000, 1, new Generator(5));
      try {
        const counts = new Array<number>(10).fill(0);
        for (const v of b.inputs.data()) counts[v]++;
        assert.equal(counts[8], 0);
        assert.equal(counts[9], 0);
        for (let v = 0; v < 8; v++) assert.ok(counts[v] > 400 && counts[v] < 600, `offset ${v} drawn ${counts[v]} times of 4000`);
        assert.deepEqual(
          Array.from(b.targets.data()),
          Array.from(b.inputs.data(), (v) => v + 1),
        );
      } finally {
        disposeBatch(b);
      }
    }),
  );

  it("rejects bad arguments", () => {
    const g = new Generator(0);
    assert.throws(() => ds.batch(0, 8, g), /^RangeError: TextDataset\.batch: batchSize must be an integer >= 1, received 0$/);
    assert.throws(() => ds.batch(2, 1.5, g), /^RangeError: TextDataset\.batch: seqLen must be an integer >= 1, received 1.5$/);
    assert.throws(() => ds.batch("2" as never, 8, g), /^TypeError: TextDataset\.batch: batchSize must be an integer >= 1, received '2'$/);
    assert.throws(() => ds.batch(2, 8, 7 as never), /^TypeError: TextDataset\.batch: generator must be a Generator \(new Generator\(seed\)\), received 7$/);
    assert.throws(() => ds.batch(2, 45_903, g), /^RangeError: TextDataset\.batch: seqLen 45903 needs at least 45905 training tokens, the training part has 45904$/);
  });
});

describe("TextDataset.validationBatches", () => {
  it(
    "yields every non-overlapping window in order, in batches",
    leakFree(() => {
      const ds = new TextDataset(iota(100_000)); // validation: 8192 tokens
      assert.equal(ds.validationWindows(100), 81); // floor(8191 / 100)
      const got = [...ds.validationBatches(16, 100)];
      try {
        assert.deepEqual(got.map((b) => b.inputs.shape[0]), [16, 16, 16, 16, 16, 1]);
        let w = 0;
        for (const { inputs, targets } of got) {
          assert.deepEqual(inputs.shape.slice(1), [100]);
          const x = inputs.data();
          const y = targets.data();
          for (let r = 0; r < inputs.shape[0]; r++, w++) {
            assert.deepEqual(Array.from(x.subarray(r * 100, (r + 1) * 100)), Array.from(ds.validation.subarray(w * 100, (w + 1) * 100)));
            assert.deepEqual(Array.from(y.subarray(r * 100, (r + 1) * 100)), Array.from(ds.validation.subarray(w * 100 + 1, (w + 1) * 100 + 1)));
          }
        }
        assert.equal(w, 81);
        // Window 40 (batch 2, row 8) crosses from block 9 into block 19 after 96 tokens.
        assert.equal(got[2].inputs.data()[8 * 100 + 95], 40_959);
        assert.equal(got[2].inputs.data()[8 * 100 + 96], 19 * 4096);
      } finally {
        got.forEach(disposeBatch);
      }
    }),
  );

  it(
    "fits a window that uses the last token as its final target",
    leakFree(() => {
      const ds = new TextDataset(iota(50_000)); // validation: 4096 tokens
      const [only, ...rest] = [...ds.validationBatches(8, 4095)];
      try {
        assert.equal(rest.length, 0);
        assert.deepEqual(only.inputs.shape, [1, 4095]);
        assert.equal(only.targets.data()[4094], 40_959);
      } finally {
        disposeBatch(only);
      }
      assert.throws(() => ds.validationBatches(8, 4096), /^RangeError: TextDataset\.validationBatches: seqLen 4096 needs at least 4097 validation tokens, the validation part has 4096$/);
    }),
  );

  it("rejects bad arguments and texts without validation tokens", () => {
    const ds = new TextDataset(iota(1000));
    assert.throws(() => ds.validationBatches(4, 8), /^RangeError: TextDataset\.validationBatches: seqLen 8 needs at least 9 validation tokens, the validation part has 0 \(texts of 36864 tokens or fewer have none\)$/);
    const big = new TextDataset(iota(50_000));
    assert.throws(() => big.validationBatches(0, 8), /^RangeError: TextDataset\.validationBatches: batchSize must be an integer >= 1, received 0$/);
    assert.throws(() => big.validationBatches(4, -1), /^RangeError: TextDataset\.validationBatches: seqLen must be an integer >= 1, received -1$/);
  });
});

describe("building a TextDataset", () => {
  it("from text with the default character tokenizer", () => {
    const text = "To be, or not to be: that is the question. 😀\n";
    const ds = TextDataset.fromText(text);
    assert.ok(ds.tokenizer instanceof CharTokenizer);
    assert.equal(ds.vocabSize, ds.tokenizer.vocabSize);
    assert.equal(ds.validation.length, 0);
    assert.equal(ds.tokenizer.decode(ds.train), text);
    const bytes = TextDataset.fromText(text, new ByteTokenizer());
    assert.equal(bytes.vocabSize, 256);
    assert.equal(bytes.train.length, Buffer.byteLength(text));
  });

  it("from a text file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-data-"));
    try {
      const file = path.join(dir, "corpus.txt");
      const text = "déjà vu — ".repeat(5000); // 50,000 characters, 70,000 UTF-8 bytes
      fs.writeFileSync(file, text, "utf8");
      const ds = TextDataset.fromFile(file);
      assert.equal(ds.length, 50_000);
      assert.equal(ds.validation.length, 4096);
      const tok = ds.tokenizer as CharTokenizer;
      assert.deepEqual(tok.vocabulary, [" ", "d", "j", "u", "v", "à", "é", "—"]);
      assert.equal(tok.decode(ds.validation), text.slice(36_864, 40_960));
      const bytes = TextDataset.fromFile(file, new ByteTokenizer());
      assert.equal(bytes.length, 70_000);
      assert.throws(() => TextDataset.fromFile(path.join(dir, "missing.txt")), /^Error: TextDataset\.fromFile: cannot read '.*missing\.txt': no such file or directory \(ENOENT\)/);
      fs.writeFileSync(path.join(dir, "empty.txt"), "");
      assert.throws(() => TextDataset.fromFile(path.join(dir, "empty.txt")), /^RangeError: TextDataset\.fromFile: the file '.*empty\.txt' is empty$/);
      assert.throws(() => TextDataset.fromFile(file, CharTokenizer.fromText("abc")), /^RangeError: TextDataset\.fromFile: '.*corpus\.txt': CharTokenizer\.encode: character "d" \(U\+0064\) at position 0 /);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    "from an Arrow table of strings or of ids",
    leakFree(() => {
      const strings = tableFromArrays({ text: ["first line", "second line"] }); // dictionary-encoded Utf8
      const ds = TextDataset.fromArrow(strings);
      assert.equal(ds.tokenizer?.decode(ds.train), "first line\nsecond line");
      const joined = TextDataset.fromArrow(strings, { separator: " | ", tokenizer: new ByteTokenizer() });
      assert.equal(joined.tokenizer?.decode(joined.train), "first line | second line");

      const ids = iota(50_000);
      const plain = TextDataset.fromArrow(tableFromArrays({ ids, other: new Float32Array(50_000) }), { column: "ids" });
      assert.equal(plain.validation[0], 36_864);
      assert.equal(plain.train.length, 45_904);
      assert.equal(plain.tokenizer, undefined);

      const t = fromArray(Array.from(iota(12)), { dtype: "i32", shape: [3, 4] });
      try {
        const tensorTable = tensorsToTable({ tokens: t });
        const fromTensor = TextDataset.fromArrow(tensorTable, { tokenizer: new ByteTokenizer() });
        assert.deepEqual(Array.from(fromTensor.train), Array.from(iota(12)));
        assert.equal(fromTensor.vocabSize, 256);
      } finally {
        t.dispose();
      }

      const two = tableFromArrays({ a: new Int32Array(3), b: new Int32Array(3) });
      assert.throws(() => TextDataset.fromArrow(two), /^RangeError: TextDataset\.fromArrow: the table has 2 columns \('a', 'b'\); pass opts\.column to choose one$/);
      assert.throws(() => TextDataset.fromArrow(two, { column: "c" }), /^RangeError: TextDataset\.fromArrow: the table has no column 'c' \(it has 'a', 'b'\)$/);
      assert.throws(
        () => TextDataset.fromArrow(tableFromArrays({ x: new Float32Array(3) })),
        /^TypeError: TextDataset\.fromArrow: column 'x' must be a string \(Utf8\) column or an Int32 token-id column, received type Float32$/,
      );
      assert.throws(
        () => TextDataset.fromArrow(tableFromArrays({ ids: new Int32Array([1, 300]) }), { tokenizer: new ByteTokenizer() }),
        /^RangeError: TextDataset\.fromArrow: column 'ids': ids\[1\] must be a token id in \[0, 256\), received 300$/,
      );
      assert.throws(() => TextDataset.fromArrow({} as never), /^TypeError: TextDataset\.fromArrow: table must be an Arrow Table, received an object$/);
    }),
  );

  it("rejects bad ids and options", () => {
    assert.throws(() => new TextDataset([1, 2, 3] as never), /^TypeError: TextDataset: ids must be an Int32Array of token ids, received an array of length 3$/);
    assert.throws(() => new TextDataset(new Int32Array(0)), /^RangeError: TextDataset: ids must hold at least one token, received an empty Int32Array$/);
    assert.throws(() => new TextDataset(new Int32Array([0, -2])), /^RangeError: TextDataset: ids\[1\] must be a token id in \[0, 1\), received -2$/);
    assert.throws(() => new TextDataset(new Int32Array([0, 5]), { vocabSize: 5 }), /^RangeError: TextDataset: ids\[1\] must be a token id in \[0, 5\), received 5$/);
    assert.throws(() => new TextDataset(new Int32Array([0]), { vocabSize: 0 }), /^RangeError: TextDataset: vocabSize must be an integer >= 1, received 0$/);
    assert.throws(() => new TextDataset(new Int32Array([0]), { tokenizer: {} as never }), /^TypeError: TextDataset: tokenizer must be a Tokenizer/);
    assert.throws(
      () => new TextDataset(new Int32Array([0]), { tokenizer: new ByteTokenizer(), vocabSize: 300 }),
      /^RangeError: TextDataset: vocabSize 300 differs from the tokenizer's vocabSize 256$/,
    );
    assert.throws(() => TextDataset.fromText(""), /^RangeError: TextDataset\.fromText: text must not be empty$/);
    assert.throws(() => TextDataset.fromText("abc", CharTokenizer.fromText("ab")), /^RangeError: TextDataset\.fromText: CharTokenizer\.encode: character "c" \(U\+0063\) at position 2 /);
    assert.throws(() => splitTokens(new Uint8Array(3) as never), /^TypeError: splitTokens: ids must be an Int32Array, received Uint8Array\(3\)$/);
  });
});
