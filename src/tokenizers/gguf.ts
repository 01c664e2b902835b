// Tokenizers in GGUF metadata (tokenizer.ggml.*, byte-level BPE as llama.cpp reads it): our
// CharTokenizer/ByteTokenizer and Hugging Face tokenizer.json objects written as GGUF
// vocabularies, and GGUF vocabularies turned back into tokenizer.json objects.
import { describe } from "../tensor/dtype";
import { GGUFFile, GGUFValue, ggufString, ggufNumber, ggufArray, ggufBool } from "../io/gguf";
import { GGUFFormatError } from "../io/ggml-types";

/** A Hugging Face tokenizer.json, as parsed JSON. */
export type HFTokenizerJSON = Record<string, unknown>;

export function quote(s: string): string {
  return `'${s.length > 200 ? s.slice(0, 200) + "..." : s}'`;
}

// ---------------------------------------------------------------------------------------------
// Byte-level BPE vocabularies

let byteChars: string[] | undefined;

/**
 * GPT-2's byte-to-character map: printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
 * themselves, the other 68 bytes for U+0100 onwards in byte order, so every byte string is a
 * string of visible characters with no spaces.
 */
function byteToChar(): string[] {
  if (byteChars) return byteChars;
  const out = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 0x100 + next++);
  byteChars = out;
  return out;
}

function mapBytes(bytes: ArrayLike<number>): string {
  const table = byteToChar();
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += table[bytes[i]];
  return s;
}

/** GGUF token types (llama.cpp's llama_token_type). */
const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;

/** Tokenizer metadata as exportGGUF writes it. */
interface GGUFVocabulary {
  tokens: string[];
  tokenTypes: Int32Array;
  merges: string[];
  pre: "default" | "llama-bpe";
  bos?: number;
  addBos: boolean;
}

/**
 * A character vocabulary as byte-level BPE: token i is the mapped UTF-8 bytes of character i;
 * a character of several bytes gets the merges (its first j bytes, byte j + 1) for j = 1 ...
 * Every merge's right side is a UTF-8 continuation byte and its left side starts with a lead
 * byte, so no merge can join bytes of two characters or skip a step: BPE rebuilds each
 * character of the vocabulary exactly, whatever the merges' order (they are listed shortest
 * prefix first). The partial byte strings are merge steps only, not tokens (the vocabulary has
 * exactly the model's rows): llama.cpp and tokenizers.js take that; the Rust tokenizers crate
 * wants every merge part in the vocabulary.
 */
function charVocabulary(fn: string, chars: readonly string[]): { tokens: string[]; merges: string[] } {
  const encoder = new TextEncoder();
  const tokens: string[] = [];
  const seen = new Set<string>();
  const byLength: string[][] = [];
  chars.forEach((ch, i) => {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new RangeError(`${fn}: tokenizer vocabulary[${i}] is a lone UTF-16 surrogate (U+${cp.toString(16).toUpperCase()}), which has no UTF-8 bytes`);
    const bytes = encoder.encode(ch);
    tokens.push(mapBytes(bytes));
    for (let j = 1; j < bytes.length; j++) {
      const merge = `${mapBytes(bytes.subarray(0, j))} ${mapBytes(bytes.subarray(j, j + 1))}`;
      if (seen.has(merge)) continue;
      seen.add(merge);
      (byLength[j] ??= []).push(merge);
    }
  });
  return { tokens, merges: byLength.flat() };
}

// The pre-tokenizer regex of LLaMA-3's tokenizer.json, which llama.cpp calls "llama-bpe".
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Pre-tokenizers of a tokenizer.json (a Sequence's members, or the one). */
function preTokenizers(json: HFTokenizerJSON): Record<string, unknown>[] {
  const p = json.pre_tokenizer;
  if (!isObject(p)) return [];
  if (p.type === "Sequence" && Array.isArray(p.pretokenizers)) return p.pretokenizers.filter(isObject);
  return [p];
}

/** The id of the first special token a TemplateProcessing post-processor puts before the text. */
function templateBos(json: HFTokenizerJSON): number | undefined {
  const p = json.post_processor;
  const procs = isObject(p) ? (p.type === "Sequence" && Array.isArray(p.processors) ? p.processors.filter(isObject) : [p]) : [];
  for (const proc of procs) {
    if (proc.type !== "TemplateProcessing" || !Array.isArray(proc.single)) continue;
    const first = proc.single[0];
    if (!isObject(first) || !isObject(first.SpecialToken)) return undefined;
    const name = first.SpecialToken.id;
    const entry = isObject(proc.special_tokens) && typeof name === "string" ? proc.special_tokens[name] : undefined;
    const ids = isObject(entry) ? entry.ids : undefined;
    if (Array.isArray(ids) && ids.length === 1 && Number.isInteger(ids[0])) return ids[0] as number;
    return undefined;
  }
  return undefined;
}

/** A byte-level BPE tokenizer.json as GGUF tokenizer metadata. */
function hfVocabulary(fn: string, json: HFTokenizerJSON, vocabSize: number): GGUFVocabulary {
  const bad = (what: string): never => {
    throw new RangeError(`${fn}: the tokenizer.json ${what}`);
  };
  const model = json.model;
  if (!isObject(model) || model.type !== "BPE") bad(`has model type ${describe(isObject(model) ? model.type : model)}; only BPE models export to GGUF`);
  const m = model as Record<string, unknown>;
  const byteLevel = preTokenizers(json).some((p) => p.type === "ByteLevel") || (isObject(json.decoder) && json.decoder.type === "ByteLevel");
  if (!byteLevel) bad("is not byte-level (no ByteLevel pre-tokenizer or decoder); GGUF's 'gpt2' tokenizer is byte-level BPE");
  if (!isObject(m.vocab)) bad(`model.vocab must be an object { token: id }, received ${describe(m.vocab)}`);
  const tokens = new Array<string | undefined>(vocabSize);
  const types = new Int32Array(vocabSize).fill(TOKEN_NORMAL);
  const place = (token: string, id: unknown, type: number, where: string): void => {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) bad(`${where} ${JSON.stringify(token)} has id ${describe(id)}, expected an integer in [0, ${vocabSize}) (the model's vocab_size)`);
    const i = id as number;
    if (tokens[i] !== undefined && tokens[i] !== token) bad(`gives id ${i} to both ${JSON.stringify(tokens[i])} and ${JSON.stringify(token)}`);
    tokens[i] = token;
    types[i] = type;
  };
  for (const [token, id] of Object.entries(m.vocab as Record<string, unknown>)) place(token, id, TOKEN_NORMAL, "model.vocab token");
  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) bad(`added_tokens must be an array, received ${describe(added)}`);
  (added as unknown[]).forEach((t, j) => {
    if (!isObject(t) || typeof t.content !== "string") bad(`added_tokens[${j}] must be { id, content, special }, received ${describe(t)}`);
    const a = t as Record<string, unknown>;
    place(a.content as string, a.id, a.special === true ? TOKEN_CONTROL : TOKEN_USER_DEFINED, `added_tokens[${j}]`);
  });
  const missing = tokens.findIndex((t) => t === undefined);
  if (missing >= 0) bad(`has no token with id ${missing}; the model has ${vocabSize} token ids and GGUF lists one token for each`);
  const rawMerges = m.merges ?? [];
  if (!Array.isArray(rawMerges)) bad(`model.merges must be an array, received ${describe(rawMerges)}`);
  const merges = (rawMerges as unknown[]).map((x, j) => {
    if (typeof x === "string") {
      if (x.indexOf(" ", 1) < 0) bad(`model.merges[${j}] ${JSON.stringify(x)} is not two tokens separated by a space`);
      return x;
    }
    if (Array.isArray(x) && x.length === 2 && typeof x[0] === "string" && typeof x[1] === "string") {
      if (x[0].includes(" ") || x[1].includes(" ")) bad(`model.merges[${j}] ${JSON.stringify(x)} holds a space, which GGUF's space-separated merges cannot carry`);
      return `${x[0]} ${x[1]}`;
    }
    return bad(`model.merges[${j}] must be "a b" or ["a", "b"], received ${describe(x)}`);
  });
  // llama.cpp splits text with its own regex per `pre`: only the two whose split is known to
  // match the tokenizer.json are written, anything else would tokenize differently there.
  const pres = preTokenizers(json);
  const llama3 = pres.some((p) => p.type === "Split" && isObject(p.pattern) && p.pattern.Regex === LLAMA3_SPLIT);
  const gpt2 = pres.length === 1 && pres[0].type === "ByteLevel" && pres[0].use_regex !== false;
  if (!llama3 && !gpt2) {
    bad(`pre-tokenizer ${JSON.stringify(json.pre_tokenizer).slice(0, 200)} is neither LLaMA-3's split ("llama-bpe") nor GPT-2's ByteLevel split ("default"), the ones bitnet-lab writes`);
  }
  const bos = templateBos(json);
  return { tokens: tokens as string[], tokenTypes: types, merges, pre: llama3 ? "llama-bpe" : "default", bos, addBos: bos !== undefined };
}

/** The tokenizer metadata exportGGUF writes for `source`. */
export function vocabularyOf(fn: string, source: unknown, vocabSize: number): GGUFVocabulary {
  let json: unknown = source;
  if (isObject(source) && typeof source.toJSON === "function") json = (source.toJSON as () => unknown).call(source);
  if (isObject(json) && (json.type === "char" || json.type === "byte")) {
    let tokens: string[];
    let merges: string[] = [];
    if (json.type === "byte") {
      tokens = byteToChar().slice();
    } else {
      if (!Array.isArray(json.vocabulary) || !json.vocabulary.every((c) => typeof c === "string")) {
        throw new TypeError(`${fn}: a character tokenizer's JSON must hold vocabulary, an array of characters, received ${describe(json.vocabulary)}`);
      }
      ({ tokens, merges } = charVocabulary(fn, json.vocabulary as string[]));
    }
    if (tokens.length !== vocabSize) {
      throw new RangeError(`${fn}: the tokenizer has ${tokens.length} tokens, the model's vocab_size is ${vocabSize}; GGUF lists one token for each embedding row`);
    }
    return { tokens, tokenTypes: new Int32Array(tokens.length).fill(TOKEN_NORMAL), merges, pre: "default", addBos: false };
  }
  if (isObject(json) && isObject(json.model)) return hfVocabulary(fn, json, vocabSize);
  throw new TypeError(`${fn}: opts.tokenizer must be a CharTokenizer, a ByteTokenizer or a tokenizer.json object, received ${describe(source)}`);
}

// ---------------------------------------------------------------------------------------------
// Tokenizer metadata -> tokenizer.json

/**
 * A Hugging Face tokenizer.json object for the byte-level BPE tokenizer in GGUF metadata
 * (`tokenizer.ggml.model` "gpt2"): a BPE model with the tokens of type normal (and any other
 * non-control type) as its vocab and the merges, control tokens (type 3) as special added tokens
 * and user-defined ones (type 4) as plain added tokens, the ByteLevel pre-tokenizer and decoder
 * (for `tokenizer.ggml.pre` "llama-bpe": LLaMA-3's split regex before ByteLevel, and merges
 * ignored for whole-vocabulary words, as LLaMA-3's tokenizer.json has), and with
 * `add_bos_token` a TemplateProcessing post-processor that puts the BOS token first.
 *
 * @param source A parsed GGUF file or its metadata.
 * @throws GGUFFormatError naming the key (and the file) when a tokenizer key is missing, of the
 *   wrong type or inconsistent (token_type of another length, a special id outside the
 *   vocabulary, a token listed twice, a merge without a space), when the tokenizer is not
 *   "gpt2", or its pre-tokenizer is not "default" or "llama-bpe".
 */
export function ggufTokenizerToJSON(source: GGUFFile | ReadonlyMap<string, GGUFValue>): HFTokenizerJSON {
  const fn = "ggufTokenizerToJSON";
  const meta: ReadonlyMap<string, GGUFValue> = source instanceof Map ? source : (source as GGUFFile)?.metadata;
  if (!(meta instanceof Map)) throw new TypeError(`${fn}: expected a GGUFFile or its metadata Map, received ${describe(source)}`);
  const label = source instanceof Map ? fn : `${fn}: ${quote((source as GGUFFile).name)}`;
  const fail = (message: string): never => {
    throw new GGUFFormatError(`${label}: ${message}`);
  };
  const model = ggufString(source, "tokenizer.ggml.model");
  if (model !== "gpt2") fail(`key 'tokenizer.ggml.model' is ${JSON.stringify(model)}; only byte-level BPE ("gpt2") tokenizers convert to tokenizer.json`);
  const pre = meta.has("tokenizer.ggml.pre") ? ggufString(source, "tokenizer.ggml.pre") : "default";
  if (pre !== "default" && pre !== "llama-bpe") fail(`key 'tokenizer.ggml.pre' is ${JSON.stringify(pre)}; bitnet-lab converts "default" (GPT-2's split) and "llama-bpe" (LLaMA-3's)`);
  const tokens = ggufArray(source, "tokenizer.ggml.tokens", "string");
  const n = tokens.length;
  let types: ArrayLike<number> | undefined;
  if (meta.has("tokenizer.ggml.token_type")) {
    const t = ggufArray(source, "tokenizer.ggml.token_type");
    if (t.elementType !== "i32" && t.elementType !== "u32") fail(`key 'tokenizer.ggml.token_type' is an array of ${t.elementType}, expected i32`);
    types = t.value as Int32Array | Uint32Array;
    if (types.length !== n) fail(`key 'tokenizer.ggml.token_type' has ${types.length} entries for ${n} tokens`);
  }
  const merges = meta.has("tokenizer.ggml.merges") ? ggufArray(source, "tokenizer.ggml.merges", "string") : fail("key 'tokenizer.ggml.merges' is missing (a \"gpt2\" tokenizer needs it)");
  merges.forEach((m, i) => {
    if (m.indexOf(" ", 1) < 0) fail(`element ${i} of key 'tokenizer.ggml.merges' (${JSON.stringify(m.slice(0, 40))}) is not two tokens separated by a space`);
  });
  const specialId = (key: string): number | undefined => {
    if (!meta.has(key)) return undefined;
    const id = ggufNumber(source, key);
    if (!Number.isInteger(id) || id < 0 || id >= n) fail(`key ${quote(key)} is ${id}, expected a token id in [0, ${n})`);
    return id;
  };
  const bos = specialId("tokenizer.ggml.bos_token_id");
  specialId("tokenizer.ggml.eos_token_id");
  const addBos = meta.has("tokenizer.ggml.add_bos_token") ? ggufBool(source, "tokenizer.ggml.add_bos_token") : false;

  const vocab: [string, number][] = [];
  const firstId = new Map<string, number>();
  const added: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const token = tokens[i];
    const seen = firstId.get(token);
    if (seen !== undefined) fail(`key 'tokenizer.ggml.tokens' lists ${JSON.stringify(token.slice(0, 40))} twice (ids ${seen} and ${i}); a tokenizer.json vocabulary maps each token to one id`);
    firstId.set(token, i);
    const type = types ? types[i] : TOKEN_NORMAL;
    if (type === TOKEN_CONTROL || type === TOKEN_USER_DEFINED) {
      added.push({ id: i, content: token, single_word: false, lstrip: false, rstrip: false, normalized: type !== TOKEN_CONTROL, special: type === TOKEN_CONTROL });
    } else {
      vocab.push([token, i]);
    }
  }
  const llama3 = pre === "llama-bpe";
  const byteLevel = (useRegex: boolean): Record<string, unknown> => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  const preTokenizer = llama3
    ? { type: "Sequence", pretokenizers: [{ type: "Split", pattern: { Regex: LLAMA3_SPLIT }, behavior: "Isolated", invert: false }, byteLevel(false)] }
    : byteLevel(true);
  let postProcessor: Record<string, unknown> | null = null;
  if (addBos && bos !== undefined) {
    const b = tokens[bos];
    postProcessor = {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: b, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: b, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: b, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { [b]: { id: b, ids: [bos], tokens: [b] } },
    };
  }
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: postProcessor,
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: llama3,
      // fromEntries defines own properties, so even a token "__proto__" is an ordinary entry.
      vocab: Object.fromEntries(vocab),
      merges: merges.slice(),
    },
  };
}
