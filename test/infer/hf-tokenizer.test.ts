// HFTokenizer on a hand-built LLaMA-3-structured tokenizer.json: encodes worked out by hand (merge
// order, ignore_merges, digit groups, contractions, spaces and newlines, non-ASCII), the case the
// library gets wrong by itself ("'ſ"), special tokens, round trips of random Unicode text, and an
// independent reference (LLaMA-3's split written out as the regex engine runs it, and plain
// lowest-rank-first BPE) agreeing on thousands of random strings.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Tokenizer as LibTokenizer } from "@huggingface/tokenizers";
import { HFFormatError, HFTokenizer } from "../../src";
import { byteLevelAlphabet, expandCaseInsensitiveGroups } from "../../src/tokenizers/hf";
import { LLAMA3_PATTERN, MERGES, SPECIALS, byteOrder, llama3TokenizerJSON } from "./hf-fixture";

const json = llama3TokenizerJSON();
const tok = HFTokenizer.fromJSON(json);
const vocab = (json.model as { vocab: Record<string, number> }).vocab;
const BOS = 256 + MERGES.length;
const EOS = BOS + 1;
const ids = (...tokens: string[]): number[] => tokens.map((t) => {
  const id = vocab[t] ?? (SPECIALS.includes(t) ? BOS + SPECIALS.indexOf(t) : undefined);
  assert.ok(id !== undefined, `fixture has no token ${JSON.stringify(t)}`);
  return id;
});
const encode = (text: string): number[] => Array.from(tok.encode(text, { addBos: false }));

test("the fixture follows LLaMA-3's numbering: byte symbols first ('Ġ' 220, 'Ċ' 198), BOS/EOS after the merges", () => {
  assert.equal(vocab["Ġ"], 220);
  assert.equal(vocab["Ċ"], 198);
  assert.equal(vocab["!"], 0);
  assert.equal(tok.vocabSize, BOS + SPECIALS.length);
  assert.equal(tok.bosId, BOS);
  assert.equal(tok.eosId, EOS);
  assert.equal(tok.tokenToId("<|eot_id|>"), BOS + 2);
  assert.equal(tok.idToToken(220), "Ġ");
  assert.equal(tok.toJSON(), json);
});

test("hand-computed encodes: merge order, ignore_merges, digits in threes, contractions, spaces", () => {
  // "the" is a vocabulary entry; " hello" is not: h+e (rank 1) merges before l+l (14), which
  // leaves e+ll (15) and h+ell (16) nothing to merge, so "Ġhe ll o" and not "Ġhello";
  // "1234567" splits into 123|456|7 and only "123" has merges; " café" is one entry;
  // "'s" splits off "it's"; "'S" is a contraction too, with no merge of its own.
  assert.deepEqual(
    encode("the hello 1234567 café it's IT'S x"),
    ids("the", "Ġ", "he", "ll", "o", "Ġ", "123", "4", "5", "6", "7", "ĠcafÃ©", "Ġ", "i", "t", "'s", "Ġ", "I", "T", "'", "S", "Ġ", "x"),
  );
  // "hello" alone is a vocabulary entry and stays whole (ignore_merges), though no merge path reaches it.
  assert.deepEqual(encode("hello"), ids("hello"));
  // Newlines: "\n\n" is one piece; "  b" is " " + " b"; a trailing "   \n" is one piece whose
  // spaces merge leftmost first (ĠĠ Ġ, not Ġ ĠĠ).
  assert.deepEqual(encode("a\n\n  b   \n"), ids("a", "ĊĊ", "Ġ", "Ġ", "b", "ĠĠ", "Ġ", "Ċ"));
  assert.deepEqual(encode("aaa"), ids("aa", "a"));
  assert.deepEqual(encode("aaaa"), ids("aa", "aa"));
  // 日本: E6 97 A5 E6 9C AC = æ Ĺ ¥ æ ľ ¬; only 日's bytes have merges.
  assert.deepEqual(encode("日本"), ids("æĹ¥", "æ", "ľ", "¬"));
  assert.deepEqual(encode("x2024y"), ids("x", "2", "0", "2", "4", "y"));
  // Oniguruma's (?i:'s|...) matches "'ſ" (U+017F folds to s): "'ſ" is a piece of its own, so
  // ſ's last byte (¿) never meets x.
  assert.deepEqual(encode("'ſx"), ids("'", "Å", "¿", "x"));
  assert.deepEqual(encode(""), []);
});

test("special tokens: BOS first by default, specials written in the text, decode with and without them", () => {
  assert.deepEqual(Array.from(tok.encode("the")), [BOS, ...ids("the")]);
  assert.deepEqual(Array.from(tok.encode("")), [BOS]);
  const withSpecials = encode("<|begin_of_text|>the<|end_of_text|> x");
  assert.deepEqual(withSpecials, [BOS, ...ids("the"), EOS, ...ids("Ġ", "x")]);
  assert.equal(tok.decode(withSpecials), "<|begin_of_text|>the<|end_of_text|> x");
  assert.equal(tok.decode(withSpecials, { skipSpecial: true }), "the x");
  assert.equal(tok.decode([BOS], { skipSpecial: true }), "");
  assert.equal(tok.decode([]), "");
  // No clean-up of spaces before punctuation (tokenizer_config's clean_up_tokenization_spaces).
  assert.equal(tok.decode(encode("a . b , c ' s")), "a . b , c ' s");
  // A token that is part of a character decodes to U+FFFD, as from_utf8_lossy does.
  assert.equal(tok.decode(ids("æĹ¥", "æ")), "日\ufffd");
  assert.throws(() => tok.decode([tok.vocabSize]), /HFTokenizer\.decode: ids\[0\] is 283, not a token id of this tokenizer/);
  assert.throws(() => tok.decode([1.5]), RangeError);
});

test("the library alone splits \"'ſx\" differently (the reason for rewriting (?i:...) groups)", () => {
  const raw = new LibTokenizer(json, { clean_up_tokenization_spaces: false });
  assert.deepEqual(raw.encode("'ſx", { add_special_tokens: false }).ids, ids("'", "Å", "¿x"), "if this fails, @huggingface/tokenizers now folds case like Oniguruma and the rewrite may go");
  assert.equal(
    expandCaseInsensitiveGroups(LLAMA3_PATTERN),
    "(?:'[sSſ]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])" + LLAMA3_PATTERN.slice(LLAMA3_PATTERN.indexOf(")") + 1),
  );
  // Left alone: groups inside a class, groups with regex syntax, multi-character folds (ß ~ ss).
  assert.equal(expandCaseInsensitiveGroups("[(?i:a)]"), "[(?i:a)]");
  assert.equal(expandCaseInsensitiveGroups("(?i:a+)"), "(?i:a+)");
  assert.equal(expandCaseInsensitiveGroups("(?i:ss)"), "(?i:ss)");
});

test("only ſ and K fold to ASCII letters outside ASCII (the list the rewrite uses)", () => {
  const found: string[] = [];
  const letter = /^[a-z]$/iu;
  for (let cp = 0x80; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (letter.test(c)) found.push(c);
  }
  assert.deepEqual(found, ["\u017f", "\u212a"]);
});

// ---- An independent reference: LLaMA-3's pattern as Oniguruma runs it, alternative by alternative.

const isL = (c: string | undefined): boolean => c !== undefined && /\p{L}/u.test(c);
const isN = (c: string | undefined): boolean => c !== undefined && /\p{N}/u.test(c);
const isS = (c: string | undefined): boolean => c !== undefined && /\p{White_Space}/u.test(c);
const isNL = (c: string | undefined): boolean => c === "\r" || c === "\n";
const isPunct = (c: string | undefined): boolean => c !== undefined && !isS(c) && !isL(c) && !isN(c);
const FOLD: Record<string, string> = { "\u017f": "s", "\u212a": "k" };
const fold = (c: string | undefined): string | undefined => (c === undefined ? c : FOLD[c] ?? (c < "\x80" ? c.toLowerCase() : c));

function refSplit(text: string): string[] {
  const c = Array.from(text);
  const n = c.length;
  const out: string[] = [];
  let i = 0;
  const take = (end: number): void => {
    out.push(c.slice(i, end).join(""));
    i = end;
  };
  while (i < n) {
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (c[i] === "'") {
      const alt = ["s", "t", "re", "ve", "m", "ll", "d"].find((a) => [...a].every((ch, j) => fold(c[i + 1 + j]) === ch));
      if (alt) {
        take(i + 1 + alt.length);
        continue;
      }
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    let j = !isNL(c[i]) && !isL(c[i]) && !isN(c[i]) && isL(c[i + 1]) ? i + 1 : i;
    if (isL(c[j])) {
      while (isL(c[j])) j++;
      take(j);
      continue;
    }
    // \p{N}{1,3}
    if (isN(c[i])) {
      j = i;
      while (j < i + 3 && isN(c[j])) j++;
      take(j);
      continue;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    j = c[i] === " " && isPunct(c[i + 1]) ? i + 1 : i;
    if (isPunct(c[j])) {
      while (isPunct(c[j])) j++;
      while (isNL(c[j])) j++;
      take(j);
      continue;
    }
    // The rest is a run of whitespace [i, end).
    let end = i;
    while (isS(c[end])) end++;
    let lastNL = -1;
    for (let k = i; k < end; k++) if (isNL(c[k])) lastNL = k;
    if (lastNL >= 0) take(lastNL + 1); // \s*[\r\n]+
    else if (end === n || end - i === 1) take(end); // \s+(?!\S) to the end, or \s+
    else take(end - 1); // \s+(?!\S): leave the last space to the next word
  }
  return out;
}

function refEncode(text: string, t: Record<string, unknown>): number[] {
  const model = t.model as { vocab: Record<string, number>; merges: string[] };
  const rank = new Map(model.merges.map((m, r) => [m, r]));
  const alphabet = byteLevelAlphabet();
  const specials = (t.added_tokens as { id: number; content: string }[]).map((a) => a);
  const out: number[] = [];
  const bpe = (piece: string): void => {
    const symbols = Array.from(Buffer.from(piece, "utf8"), (b) => alphabet[b]);
    const whole = symbols.join("");
    if (model.vocab[whole] !== undefined) return void out.push(model.vocab[whole]);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let k = 0; k + 1 < symbols.length; k++) {
        const r = rank.get(`${symbols[k]} ${symbols[k + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [k, r];
      }
      if (best < 0) break;
      symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
    }
    for (const s of symbols) out.push(model.vocab[s]);
  };
  let rest = text;
  while (rest.length > 0) {
    // Leftmost, then longest, special token.
    let at = rest.length;
    let hit: { id: number; content: string } | undefined;
    for (const s of specials) {
      const k = rest.indexOf(s.content);
      if (k >= 0 && (k < at || (k === at && s.content.length > hit!.content.length))) [at, hit] = [k, s];
    }
    for (const piece of refSplit(rest.slice(0, at))) bpe(piece);
    if (!hit) break;
    out.push(hit.id);
    rest = rest.slice(at + hit.content.length);
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  "a", "b", "e", "h", "l", "o", "t", "s", "x", "T", "S", "D", "M", "'", "’", "ſ", "K", "é", "ß", "日", "本", "Ω", "ж", "ǅ",
  " ", "  ", "\t", "\n", "\r\n", "\r", "\u0085", "\u00a0", "\u2028", "\u3000", "\ufeff", "\u200b", "\u0301",
  "0", "1", "2", "3", "9", "²", "½", "٣", "Ⅷ", "!", ".", ",", "?", "-", "_", "<", "|", "😀", "🇫🇷",
  "'s", "'S", "'ll", "'Re", "'VE", "'ſ", " '", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|begin_of",
];

function randomText(next: () => number): string {
  let s = "";
  const n = Math.floor(next() * 24);
  for (let i = 0; i < n; i++) s += ATOMS[Math.floor(next() * ATOMS.length)];
  return s;
}

test("the split reference reproduces the hand-checked pieces", () => {
  assert.deepEqual(refSplit("the hello 1234567 it's\n\n  b   \n"), ["the", " hello", " ", "123", "456", "7", " it", "'s", "\n\n", " ", " b", "   \n"]);
  assert.deepEqual(refSplit("!\u0085! a\ufeff b x \u0085 y"), ["!", "\u0085", "!", " a", "\ufeff", " b", " x", " \u0085", " y"]);
  assert.deepEqual(refSplit("'ſx 'Sa"), ["'ſ", "x", " '", "Sa"]);
  assert.deepEqual(refSplit("'Sa'LLb"), ["'S", "a", "'LL", "b"]);
});

test("random strings: HFTokenizer equals the reference (fixture merges and 400 random merges)", () => {
  const next = rng(7);
  // Random merges over the byte symbols of the atoms, so pieces of the random texts really merge.
  const alphabet = byteLevelAlphabet();
  const symbols = [...new Set(ATOMS.flatMap((a) => Array.from(Buffer.from(a, "utf8"), (b) => alphabet[b])))];
  const merges: [string, string][] = [];
  const seen = new Set<string>(symbols);
  while (merges.length < 400) {
    const a = symbols[Math.floor(next() * symbols.length)];
    const b = symbols[Math.floor(next() * symbols.length)];
    if (seen.has(a + b)) continue;
    seen.add(a + b);
    symbols.push(a + b);
    merges.push([a, b]);
  }
  for (const t of [json, llama3TokenizerJSON(merges)]) {
    const h = HFTokenizer.fromJSON(t);
    for (let i = 0; i < 3000; i++) {
      const text = randomText(next);
      assert.deepEqual(Array.from(h.encode(text, { addBos: false })), refEncode(text, t), `text ${JSON.stringify(text)}`);
    }
  }
});

test("round trips: decode(encode(text)) === text for random Unicode strings", () => {
  const next = rng(11);
  const h = HFTokenizer.fromJSON(json);
  for (let i = 0; i < 2000; i++) {
    let text = "";
    const n = Math.floor(next() * 20);
    for (let k = 0; k < n; k++) {
      const r = next();
      // Mostly the atoms (specials included), else any Unicode scalar value from any plane.
      if (r < 0.5) text += ATOMS[Math.floor(next() * ATOMS.length)];
      else {
        let cp = Math.floor(next() * (r < 0.8 ? 0x3000 : 0x110000));
        if (cp >= 0xd800 && cp <= 0xdfff) cp -= 0x800;
        text += String.fromCodePoint(cp);
      }
    }
    assert.equal(h.decode(h.encode(text, { addBos: false })), text, `text ${JSON.stringify(text)}`);
    assert.equal(h.decode(h.encode(text), { skipSpecial: false }), SPECIALS[0] + text);
  }
});

test("fromFile, and files outside the byte-level BPE family or broken: HFFormatError naming the file and field", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-hftok-"));
  try {
    const file = path.join(dir, "tokenizer.json");
    fs.writeFileSync(file, JSON.stringify(json));
    const t = HFTokenizer.fromFile(file);
    assert.deepEqual(Array.from(t.encode("the hello")), Array.from(tok.encode("the hello")));
    assert.equal(HFTokenizer.fromFile(file, { eosToken: "<|eot_id|>" }).eosId, BOS + 2);
    assert.throws(() => HFTokenizer.fromFile(file, { eosToken: "<|nope|>" }), /eosToken "<\|nope\|>" is not a token of/);
    const broken = path.join(dir, "broken.json");
    fs.writeFileSync(broken, "{ not json");
    assert.throws(() => HFTokenizer.fromFile(broken), (e: Error) => e instanceof HFFormatError && /broken\.json' is not UTF-8 JSON/.test(e.message));
    assert.throws(() => HFTokenizer.fromFile(path.join(dir, "absent.json")), /cannot read '.*absent\.json'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const variant = (edit: (j: Record<string, any>) => void): Record<string, unknown> => {
    const j = JSON.parse(JSON.stringify(json));
    edit(j);
    return j;
  };
  const bad: [(j: Record<string, any>) => void, RegExp][] = [
    [(j) => (j.model.type = "Unigram"), /model\.type is 'Unigram'; HFTokenizer reads byte-level BPE/],
    [(j) => (j.normalizer = { type: "NFC" }), /has a normalizer \('NFC'\)/],
    [(j) => (j.decoder = { type: "Metaspace" }), /decoder is not ByteLevel/],
    [(j) => (j.pre_tokenizer = { type: "Whitespace" }), /pre_tokenizer has no ByteLevel step/],
    [(j) => delete j.model.vocab["Ġ"], /model\.vocab has no entry for byte 0x20 \(symbol "Ġ"\)/],
    [(j) => j.model.merges.push("q z"), /model\.merges\[24\] "q z" uses "qz", which is not in model\.vocab/],
    [(j) => j.model.merges.push("a b c"), /model\.merges\[24\] is "a b c", expected two non-empty tokens/],
    [(j) => (j.model.vocab.the = 3), /model\.vocab gives id 3 to both/],
    [(j) => (j.added_tokens[0].id = 5), /added_tokens\[0\] gives id 5 to "<\|begin_of_text\|>", which is already "&"/],
    [(j) => (j.model.byte_fallback = true), /model\.byte_fallback is true/],
  ];
  for (const [edit, message] of bad) {
    assert.throws(() => HFTokenizer.fromJSON(variant(edit)), (e: Error) => e instanceof HFFormatError && message.test(e.message) && /tokenizer\.json/.test(e.message), String(message));
  }
  assert.equal(byteOrder().length, 256);
});
