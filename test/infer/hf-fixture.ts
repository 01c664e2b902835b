// A tokenizer.json in LLaMA-3's exact structure (Split with LLaMA-3's regex, then ByteLevel without
// its own regex; BPE with ignore_merges; ByteLevel decoder; TemplateProcessing adding BOS) but with
// a vocabulary small enough to check by hand: the 256 byte symbols in LLaMA-3's order (so "Ġ" is
// 220 and "Ċ" 198 as there), the merged tokens in merge order, then the special tokens.
import { byteLevelAlphabet } from "../../src/tokenizers/hf";

export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/** Merges by rank (rank = index). */
export const MERGES: [string, string][] = [
  ["Ġ", "t"], // 0
  ["h", "e"], // 1
  ["i", "n"], // 2
  ["Ġt", "he"], // 3
  ["Ġ", "a"], // 4
  ["1", "2"], // 5
  ["12", "3"], // 6
  ["Ã", "©"], // 7: é is C3 A9, the symbols Ã ©
  ["a", "f"], // 8
  ["af", "Ã©"], // 9
  ["Ġ", "c"], // 10
  ["Ġc", "afÃ©"], // 11
  ["'", "s"], // 12
  ["Ċ", "Ċ"], // 13
  ["l", "l"], // 14
  ["e", "ll"], // 15
  ["h", "ell"], // 16
  ["hell", "o"], // 17: "hello" is a token no merge path reaches from "h e l l o" (h e merges first)
  ["¿", "x"], // 18: ſ is C5 BF, so "'ſx" meets this merge only if "'ſ" is not split off
  ["a", "a"], // 19
  ["Ġ", "Ġ"], // 20
  ["æ", "Ĺ"], // 21: 日 is E6 97 A5
  ["æĹ", "¥"], // 22
  ["t", "he"], // 23
];

export const SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"];

/** Byte values in LLaMA-3's (tiktoken's) rank order: printable first, then the rest. */
export function byteOrder(): number[] {
  const alphabet = byteLevelAlphabet();
  return [...Array(256).keys()].sort((a, b) => alphabet[a].codePointAt(0)! - alphabet[b].codePointAt(0)!);
}

export function llama3TokenizerJSON(merges: readonly [string, string][] = MERGES): Record<string, unknown> {
  const alphabet = byteLevelAlphabet();
  const vocab: Record<string, number> = {};
  byteOrder().forEach((b, i) => (vocab[alphabet[b]] = i));
  let next = 256;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  const bos = next;
  const added = SPECIALS.map((content, i) => ({ id: next + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Split", pattern: { Regex: LLAMA3_PATTERN }, behavior: "Isolated", invert: false },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "Sequence",
      processors: [
        { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
        {
          type: "TemplateProcessing",
          single: [{ SpecialToken: { id: SPECIALS[0], type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
          pair: [{ SpecialToken: { id: SPECIALS[0], type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: SPECIALS[0], type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
          special_tokens: { [SPECIALS[0]]: { id: SPECIALS[0], ids: [bos], tokens: [SPECIALS[0]] } },
        },
      ],
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: true,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
