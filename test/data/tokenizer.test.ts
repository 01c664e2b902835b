import { describe, it } from "node:test";
import * as assert from "node:assert/strict";

import { ByteTokenizer, CharTokenizer, tokenizerFromJSON } from "../../src/data";
import { fromArray } from "../../src/tensor/create";

const SAMPLES = [
  "hello, world",
  "naïve café — déjà vu", // 2- and 3-byte UTF-8
  "日本語のテキスト", // 3-byte CJK
  "emoji 😀👍🏽 and 🇫🇷 flags", // 4-byte, modifiers, regional indicators
  "\uFEFFleading byte-order mark",
  "tabs\tand\nnewlines\r\n",
];

describe("ByteTokenizer", () => {
  const tok = new ByteTokenizer();

  it("encodes the UTF-8 bytes (hand-checked)", () => {
    assert.equal(tok.vocabSize, 256);
    assert.deepEqual(Array.from(tok.encode("Hi!")), [72, 105, 33]);
    assert.deepEqual(Array.from(tok.encode("é")), [0xc3, 0xa9]);
    assert.deepEqual(Array.from(tok.encode("€")), [0xe2, 0x82, 0xac]);
    assert.deepEqual(Array.from(tok.encode("😀")), [0xf0, 0x9f, 0x98, 0x80]);
    assert.equal(tok.encode("").length, 0);
    assert.ok(tok.encode("x") instanceof Int32Array);
  });

  it("round-trips ASCII, multi-byte UTF-8 and emoji", () => {
    for (const s of SAMPLES) {
      const ids = tok.encode(s);
      assert.equal(ids.length, Buffer.byteLength(s, "utf8"));
      assert.equal(tok.decode(ids), s);
      assert.equal(tok.decode(Array.from(ids)), s);
    }
  });

  it("decodes an i32 tensor, and invalid UTF-8 to U+FFFD", () => {
    const t = fromArray([0xf0, 0x9f, 0x98, 0x80, 0x21], { dtype: "i32" });
    try {
      assert.equal(tok.decode(t), "😀!");
    } finally {
      t.dispose();
    }
    assert.equal(tok.decode([0x61, 0xff, 0x62]), "a\uFFFDb");
    assert.equal(tok.decode([0xf0, 0x9f]), "\uFFFD"); // a truncated sequence, as a model may sample
  });

  it("serializes", () => {
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    assert.deepEqual(json, { type: "byte" });
    const back = tokenizerFromJSON(json);
    assert.ok(back instanceof ByteTokenizer);
    assert.deepEqual(Array.from(back.encode("ok")), [111, 107]);
  });

  it("rejects bad ids and non-strings", () => {
    assert.throws(() => tok.decode([65, 256]), /^RangeError: ByteTokenizer\.decode: ids\[1\] must be an integer in \[0, 256\), received 256$/);
    assert.throws(() => tok.decode([-1]), /ByteTokenizer\.decode: ids\[0\] must be an integer in \[0, 256\), received -1/);
    assert.throws(() => tok.decode([1.5]), RangeError);
    assert.throws(() => tok.decode("abc" as never), /^TypeError: ByteTokenizer\.decode: ids must be an array of numbers, a typed array or an i32 Tensor, received 'abc'$/);
    const f = fromArray([1, 2]);
    try {
      assert.throws(() => tok.decode(f), /^TypeError: ByteTokenizer\.decode: an ids tensor must have dtype 'i32', received 'f32'$/);
    } finally {
      f.dispose();
    }
    assert.throws(() => tok.encode(42 as never), /^TypeError: ByteTokenizer\.encode: text must be a string, received 42$/);
  });
});

describe("CharTokenizer", () => {
  it("uses the sorted set of the text's characters", () => {
    const tok = CharTokenizer.fromText("hello world");
    assert.deepEqual(tok.vocabulary, [" ", "d", "e", "h", "l", "o", "r", "w"]);
    assert.equal(tok.vocabSize, 8);
    assert.deepEqual(Array.from(tok.encode("hello world")), [3, 2, 4, 4, 5, 0, 7, 5, 6, 4, 1]);
    assert.equal(tok.decode([3, 2, 4, 4, 5]), "hello");
  });

  it("sorts by code point like Python's sorted(set(text)), not by UTF-16 unit", () => {
    // Python: sorted(set("😀！aé")) == ['a', 'é', '！', '😀'] (U+0061, U+00E9, U+FF01, U+1F600).
    // JavaScript's default sort would put the emoji (units D83D DE00) before U+FF01.
    const tok = CharTokenizer.fromText("😀！aé😀");
    assert.deepEqual(tok.vocabulary, ["a", "é", "！", "😀"]);
    const cps = tok.vocabulary.map((c) => c.codePointAt(0) as number);
    assert.deepEqual(cps, [0x61, 0xe9, 0xff01, 0x1f600]);
    // One token per code point: the emoji is a single id.
    assert.deepEqual(Array.from(tok.encode("😀a😀")), [3, 0, 3]);
  });

  it("round-trips ASCII, multi-byte UTF-8 and emoji", () => {
    for (const s of SAMPLES) {
      const tok = CharTokenizer.fromText(s);
      const ids = tok.encode(s);
      assert.equal(ids.length, [...s].length);
      assert.equal(tok.decode(ids), s);
      for (let i = 1; i < tok.vocabSize; i++) {
        assert.ok((tok.vocabulary[i - 1].codePointAt(0) as number) < (tok.vocabulary[i].codePointAt(0) as number));
      }
    }
    const all = SAMPLES.join("");
    const tok = CharTokenizer.fromText(all);
    assert.equal(tok.decode(tok.encode(all)), all);
  });

  it("keeps a saved vocabulary's order and serializes", () => {
    const tok = new CharTokenizer(["b", "a", "😀"]);
    assert.deepEqual(Array.from(tok.encode("ab😀")), [1, 0, 2]);
    const json = JSON.parse(JSON.stringify(tok.toJSON()));
    assert.deepEqual(json, { type: "char", vocabulary: ["b", "a", "😀"] });
    const back = tokenizerFromJSON(json);
    assert.ok(back instanceof CharTokenizer);
    assert.deepEqual(Array.from(back.encode("ab😀")), [1, 0, 2]);
    assert.equal(back.decode([2, 1, 0]), "😀ab");
    assert.deepEqual(CharTokenizer.fromJSON(json).vocabulary, ["b", "a", "😀"]);
  });

  it("names an unknown character and its position (code point index) in encode", () => {
    const tok = CharTokenizer.fromText("abc😀");
    assert.throws(() => tok.encode("abxc"), /^RangeError: CharTokenizer\.encode: character "x" \(U\+0078\) at position 2 is not in the vocabulary of 4 characters$/);
    assert.throws(() => tok.encode("😀😀é"), /CharTokenizer\.encode: character "é" \(U\+00E9\) at position 2 /);
    assert.throws(() => tok.encode("a👍"), /character "👍" \(U\+1F44D\) at position 1 /);
  });

  it("rejects bad vocabularies, JSON and ids", () => {
    assert.throws(() => new CharTokenizer(["a", "b", "a"]), /^RangeError: CharTokenizer: vocabulary\[2\] "a" \(U\+0061\) repeats vocabulary\[0\]$/);
    assert.throws(() => new CharTokenizer(["ab"]), /^RangeError: CharTokenizer: vocabulary\[0\] must be exactly one character \(code point\), received "ab"$/);
    assert.throws(() => new CharTokenizer([]), /^RangeError: CharTokenizer: vocabulary must hold at least one character/);
    assert.throws(() => new CharTokenizer("abc" as never), /^TypeError: CharTokenizer: vocabulary must be an array of characters, received 'abc'$/);
    assert.throws(() => new CharTokenizer([1 as never]), /^TypeError: CharTokenizer: vocabulary\[0\] must be a string, received 1$/);
    assert.throws(() => CharTokenizer.fromText(""), /^RangeError: CharTokenizer\.fromText: text must not be empty/);
    assert.throws(() => CharTokenizer.fromJSON({ type: "char", vocabulary: ["x", "x"] }), /^RangeError: CharTokenizer\.fromJSON: json\.vocabulary\[1\] "x" \(U\+0078\) repeats vocabulary\[0\]$/);
    assert.throws(() => CharTokenizer.fromJSON({ type: "byte" }), /^TypeError: CharTokenizer\.fromJSON: json\.type must be 'char', received 'byte'$/);
    assert.throws(() => tokenizerFromJSON({ type: "bpe" }), /^TypeError: tokenizerFromJSON: json\.type must be 'byte' or 'char', received 'bpe'$/);
    assert.throws(() => tokenizerFromJSON(null), /^TypeError: tokenizerFromJSON: json must be an object/);
    const tok = CharTokenizer.fromText("ab");
    assert.throws(() => tok.decode([0, 2]), /^RangeError: CharTokenizer\.decode: ids\[1\] must be an integer in \[0, 2\), received 2$/);
  });
});
