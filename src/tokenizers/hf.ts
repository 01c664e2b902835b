// Hugging Face tokenizer.json tokenizers of the byte-level BPE family (LLaMA-3, GPT-2 style),
// run by @huggingface/tokenizers (tokenizers.js) after checks that the file is one it runs the
// way the Rust `tokenizers` crate does.
//
// Where tokenizers.js is known to differ from the Rust crate, this wrapper corrects it or refuses:
// - Case-insensitive groups: the Rust crate compiles Split patterns with Oniguruma, whose (?i:...)
//   uses Unicode case folding, so LLaMA-3's contraction group (?i:'s|'t|...) also matches "'ſ"
//   (U+017F folds to s). tokenizers.js folds ASCII only and splits "'ſx" as one piece. Groups of
//   plain ASCII literals are rewritten here into explicit classes ('[sSſ]') before the library
//   sees the pattern.
// - It silently drops a piece whose bytes are not in the vocabulary (no unk token): the vocabulary
//   must hold all 256 byte symbols.
// - It applies tokenizer_config's clean_up_tokenization_spaces by default (" ." -> "."), which
//   breaks round trips: decoding never cleans up here.
// - Its ByteLevel pre-tokenizer with use_regex (GPT-2 style) uses JavaScript's \s, which matches
//   U+FEFF and misses U+0085 unlike Oniguruma; LLaMA-3 (use_regex false after an explicit Split)
//   is not affected. Not corrected: such files load, with that difference on those two characters.
import { Tokenizer as LibTokenizer } from "@huggingface/tokenizers";
import { readFileBytes } from "../io/file-bytes";
import { describe } from "../tensor/dtype";
import { FormatError } from "../errors";

/**
 * A Hugging Face file (config.json, tokenizer.json, model.safetensors, its index) that does not
 * hold what it must or holds something bitnet-lab does not read; the message names the file, the
 * field or tensor, and the problem.
 */
export class HFFormatError extends FormatError {
  override name = "HFFormatError";
  constructor(message: string, options?: ErrorOptions) {
    super("Hugging Face", message, options);
  }
}

/** Options of {@link HFTokenizer.fromJSON} and {@link HFTokenizer.fromFile}. */
export interface HFTokenizerOptions {
  /**
   * Content of the beginning-of-text token. Default: the special token the post_processor's
   * TemplateProcessing puts before the text ("<|begin_of_text|>" in LLaMA-3), else none.
   */
  bosToken?: string;
  /**
   * Content of the end-of-text token. Default: the first of "<|end_of_text|>", "</s>",
   * "<|endoftext|>" among the added tokens, else none.
   */
  eosToken?: string;
}

/** Options of {@link HFTokenizer.encode}. */
export interface HFEncodeOptions {
  /** Put the BOS token first (default true when the tokenizer has one, as HF's add_special_tokens). */
  addBos?: boolean;
}

/** Options of {@link HFTokenizer.decode}. */
export interface HFDecodeOptions {
  /** Leave out special tokens (HF's skip_special_tokens; default false). */
  skipSpecial?: boolean;
}

/**
 * GPT-2's byte-to-symbol table of byte-level BPE: printable bytes stand for themselves, the
 * other 68 map to U+0100.. in byte order. Index = byte.
 */
export function byteLevelAlphabet(): string[] {
  const out = new Array<string>(256);
  let next = 0x100;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    out[b] = String.fromCodePoint(printable ? b : next++);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Code points outside ASCII whose simple case folding is an ASCII letter (CaseFolding.txt status
// C/S): Oniguruma's (?i) matches them; the test scans every code point to confirm the list.
const NON_ASCII_FOLDS: Record<string, string> = { s: "\u017f", k: "\u212a" };
// ASCII strings some single character folds to in full (status F) case folding (ß -> ss,
// ﬁ -> fi, ...): Oniguruma matches those characters against them, a class rewrite cannot.
const MULTI_CHAR_FOLD_TARGETS = ["ss", "st", "ff", "fi", "fl"];

/**
 * Rewrites each (?i:...) group of `pattern` made of ASCII literals and '|' into a case-sensitive
 * group matching exactly what Oniguruma's Unicode case folding matches ('s' -> [sSſ]). Groups
 * with other content are left as they are (tokenizers.js folds them ASCII only).
 */
export function expandCaseInsensitiveGroups(pattern: string): string {
  let out = "";
  let i = 0;
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      out += pattern.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      i++;
      continue;
    }
    if (pattern.startsWith("(?i:", i)) {
      const end = pattern.indexOf(")", i + 4);
      const body = end < 0 ? "" : pattern.slice(i + 4, end);
      const lower = body.toLowerCase();
      const plain = end >= 0 && /^[\x20-\x7e]*$/.test(body) && !/[\\[\](){}.*+?^$]/.test(body) && !MULTI_CHAR_FOLD_TARGETS.some((t) => lower.includes(t));
      if (plain) {
        let group = "(?:";
        for (const ch of body) {
          const l = ch.toLowerCase();
          group += l !== ch.toUpperCase() ? `[${l}${ch.toUpperCase()}${NON_ASCII_FOLDS[l] ?? ""}]` : ch;
        }
        out += group + ")";
        i = end + 1;
        continue;
      }
    }
    out += c;
    i++;
  }
  return out;
}

/** A deep copy of a pre_tokenizer config with every Split regex's case-insensitive groups expanded. */
function patchPreTokenizer(config: unknown): unknown {
  if (Array.isArray(config)) return config.map(patchPreTokenizer);
  if (!isObject(config)) return config;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) out[k] = patchPreTokenizer(v);
  if (config.type === "Split" && isObject(config.pattern) && typeof config.pattern.Regex === "string") {
    out.pattern = { ...config.pattern, Regex: expandCaseInsensitiveGroups(config.pattern.Regex) };
  }
  return out;
}

/** The component configs of a pre_tokenizer / post_processor / decoder, Sequences flattened. */
function components(config: unknown, listKey: string): Record<string, unknown>[] {
  if (!isObject(config)) return [];
  if (config.type === "Sequence" && Array.isArray(config[listKey])) return (config[listKey] as unknown[]).flatMap((c) => components(c, listKey));
  return [config];
}

/**
 * A Hugging Face tokenizer.json tokenizer of the byte-level BPE family (LLaMA-3's tokenizer,
 * GPT-2's), running on @huggingface/tokenizers. Encoding splits out added tokens, pre-tokenizes
 * (LLaMA-3: its Split regex, then byte-level symbols), applies the BPE merges (with
 * `ignore_merges`: a piece that is a vocabulary entry stays whole) and, by default, puts the BOS
 * token first; decoding maps the byte symbols back to UTF-8 (invalid sequences become U+FFFD).
 * Round trips `decode(encode(text, { addBos: false })) === text` hold for every well-formed string;
 * a lone surrogate encodes as U+FFFD.
 */
export class HFTokenizer {
  /** Number of ids: one more than the largest id of the vocabulary and the added tokens. */
  readonly vocabSize: number;
  /** Id of the beginning-of-text token (null when the tokenizer has none). */
  readonly bosId: number | null;
  /** Id of the end-of-text token (null when the tokenizer has none). */
  readonly eosId: number | null;
  readonly #json: Record<string, unknown>;
  readonly #lib: LibTokenizer;
  readonly #idToToken: (string | undefined)[];
  readonly #tokenToId: Map<string, number>;
  readonly #special: Set<number>;

  private constructor(json: Record<string, unknown>, where: string, opts: HFTokenizerOptions | undefined) {
    const fail = (message: string): never => {
      throw new HFFormatError(`${where}: ${message}`);
    };
    const model = json.model;
    if (!isObject(model)) fail(`has no "model" object`);
    const m = model as Record<string, unknown>;
    if (m.type !== "BPE") fail(`model.type is ${describe(m.type)}; HFTokenizer reads byte-level BPE tokenizers ('BPE')`);
    if (m.dropout !== undefined && m.dropout !== null && m.dropout !== 0) fail(`model.dropout is ${describe(m.dropout)}; a deterministic tokenizer needs null`);
    if (m.byte_fallback === true) fail(`model.byte_fallback is true; byte-level BPE needs no byte fallback (expected false)`);
    for (const key of ["continuing_subword_prefix", "end_of_word_suffix"]) {
      if (m[key] !== undefined && m[key] !== null && m[key] !== "") fail(`model.${key} is ${describe(m[key])}; byte-level BPE has none (expected null)`);
    }
    if (json.normalizer !== undefined && json.normalizer !== null) fail(`has a normalizer (${describe(isObject(json.normalizer) ? json.normalizer.type : json.normalizer)}); HFTokenizer reads byte-level BPE tokenizers without one (LLaMA-3, GPT-2)`);
    if (!components(json.pre_tokenizer, "pretokenizers").some((c) => c.type === "ByteLevel")) fail(`pre_tokenizer has no ByteLevel step; HFTokenizer reads byte-level BPE tokenizers`);
    if (!components(json.decoder, "decoders").some((c) => c.type === "ByteLevel")) fail(`decoder is not ByteLevel (received ${describe(isObject(json.decoder) ? json.decoder.type : json.decoder)})`);

    // The vocabulary and the merges, checked as the Rust crate checks them when it loads.
    const vocab = m.vocab;
    if (!isObject(vocab)) fail(`model.vocab must be an object of token -> id`);
    const tokenToId = new Map<string, number>();
    const idToToken: (string | undefined)[] = [];
    for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) {
      if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0 || id >= 2 ** 31) fail(`model.vocab[${JSON.stringify(token)}] is ${describe(id)}, expected an integer id in [0, 2^31)`);
      const n = id as number;
      if (idToToken[n] !== undefined) fail(`model.vocab gives id ${n} to both ${JSON.stringify(idToToken[n])} and ${JSON.stringify(token)}`);
      idToToken[n] = token;
      tokenToId.set(token, n);
    }
    const alphabet = byteLevelAlphabet();
    alphabet.forEach((symbol, b) => {
      if (!tokenToId.has(symbol)) fail(`model.vocab has no entry for byte 0x${b.toString(16).padStart(2, "0")} (symbol ${JSON.stringify(symbol)}); text holding that byte could not be encoded`);
    });
    const merges = m.merges;
    if (!Array.isArray(merges)) fail(`model.merges must be an array`);
    (merges as unknown[]).forEach((merge, i) => {
      let pair: unknown[];
      if (typeof merge === "string") pair = merge.split(" ");
      else if (Array.isArray(merge)) pair = merge;
      else return fail(`model.merges[${i}] is ${describe(merge)}, expected "a b" or ["a", "b"]`);
      if (pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string" || pair[0] === "" || pair[1] === "") {
        fail(`model.merges[${i}] is ${JSON.stringify(merge)}, expected two non-empty tokens`);
      }
      for (const t of [pair[0], pair[1], (pair[0] as string) + (pair[1] as string)] as string[]) {
        if (!tokenToId.has(t)) fail(`model.merges[${i}] ${JSON.stringify(merge)} uses ${JSON.stringify(t)}, which is not in model.vocab`);
      }
    });

    const special = new Set<number>();
    const added = json.added_tokens ?? [];
    if (!Array.isArray(added)) fail(`added_tokens must be an array`);
    (added as unknown[]).forEach((t, i) => {
      if (!isObject(t)) return fail(`added_tokens[${i}] must be an object {id, content, special}`);
      const { id, content } = t;
      if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0 || id >= 2 ** 31) fail(`added_tokens[${i}].id is ${describe(id)}, expected an integer id in [0, 2^31)`);
      if (typeof content !== "string" || content === "") fail(`added_tokens[${i}].content is ${describe(content)}, expected a non-empty string`);
      const n = id as number;
      const c = content as string;
      if (idToToken[n] !== undefined && idToToken[n] !== c) fail(`added_tokens[${i}] gives id ${n} to ${JSON.stringify(c)}, which is already ${JSON.stringify(idToToken[n])}`);
      if (tokenToId.has(c) && tokenToId.get(c) !== n) fail(`added_tokens[${i}] gives ${JSON.stringify(c)} the id ${n}, but it already has id ${tokenToId.get(c)}`);
      idToToken[n] = c;
      tokenToId.set(c, n);
      if (t.special === true) special.add(n);
    });
    this.vocabSize = idToToken.length;

    const lookup = (what: string, content: unknown): number | null => {
      if (content === undefined) return null;
      if (typeof content !== "string") throw new TypeError(`HFTokenizer: ${what} must be a string, received ${describe(content)}`);
      const id = tokenToId.get(content);
      if (id === undefined) throw new RangeError(`HFTokenizer: ${what} ${JSON.stringify(content)} is not a token of ${where}`);
      return id;
    };
    if (opts !== undefined && !isObject(opts)) throw new TypeError(`HFTokenizer: options must be an object like { bosToken, eosToken }, received ${describe(opts)}`);
    let bos: unknown = opts?.bosToken;
    if (bos === undefined) {
      for (const p of components(json.post_processor, "processors")) {
        if (p.type !== "TemplateProcessing" || !Array.isArray(p.single)) continue;
        const first = p.single[0] as Record<string, Record<string, unknown>> | undefined;
        const name = isObject(first) && isObject(first.SpecialToken) ? first.SpecialToken.id : undefined;
        const entry = typeof name === "string" && isObject(p.special_tokens) ? (p.special_tokens as Record<string, unknown>)[name] : undefined;
        const tokens = isObject(entry) ? entry.tokens : undefined;
        if (Array.isArray(tokens) && tokens.length === 1 && typeof tokens[0] === "string") bos = tokens[0];
      }
    }
    this.bosId = lookup("bosToken", bos);
    this.eosId = lookup("eosToken", opts?.eosToken ?? ["<|end_of_text|>", "</s>", "<|endoftext|>"].find((t) => tokenToId.has(t)));

    this.#json = json;
    this.#idToToken = idToToken;
    this.#tokenToId = tokenToId;
    this.#special = special;
    try {
      this.#lib = new LibTokenizer({ ...json, normalizer: null, post_processor: json.post_processor ?? null, pre_tokenizer: patchPreTokenizer(json.pre_tokenizer) }, { clean_up_tokenization_spaces: false });
    } catch (e) {
      throw new HFFormatError(`${where}: @huggingface/tokenizers cannot build it: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  /**
   * A tokenizer from the parsed contents of a tokenizer.json. Anything the file must hold and
   * does not, or holds outside the byte-level BPE family, is an {@link HFFormatError}.
   */
  static fromJSON(json: unknown, opts?: HFTokenizerOptions): HFTokenizer {
    if (!isObject(json)) throw new TypeError(`HFTokenizer.fromJSON: json must be the object of a tokenizer.json, received ${describe(json)}`);
    return new HFTokenizer(json, "HFTokenizer.fromJSON: tokenizer.json", opts);
  }

  /** Reads a tokenizer.json file (see {@link fromJSON}). */
  static fromFile(filePath: string, opts?: HFTokenizerOptions): HFTokenizer {
    const fn = "HFTokenizer.fromFile";
    const bytes = readFileBytes(filePath, fn);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (e) {
      throw new HFFormatError(`${fn}: '${filePath}' is not UTF-8 JSON (${(e as Error)?.message ?? String(e)})`, { cause: e });
    }
    if (!isObject(json)) throw new HFFormatError(`${fn}: '${filePath}' must hold a JSON object, found ${describe(json)}`);
    return new HFTokenizer(json, `${fn}: '${filePath}'`, opts);
  }

  /** Token ids of `text` (added tokens written in the text are recognised), BOS first by default. */
  encode(text: string, opts?: HFEncodeOptions): Int32Array {
    const fn = "HFTokenizer.encode";
    if (typeof text !== "string") throw new TypeError(`${fn}: text must be a string, received ${describe(text)}`);
    const addBos = opts?.addBos ?? true;
    if (typeof addBos !== "boolean") throw new TypeError(`${fn}: addBos must be a boolean, received ${describe(addBos)}`);
    const ids = text === "" ? [] : this.#lib.encode(text, { add_special_tokens: false }).ids;
    const bos = addBos && this.bosId !== null ? 1 : 0;
    const out = new Int32Array(ids.length + bos);
    if (bos) out[0] = this.bosId as number;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      // The library maps a piece it cannot find to undefined rather than failing.
      if (typeof id !== "number" || this.#idToToken[id] === undefined) throw new Error(`${fn}: the tokenizer produced no valid id for piece ${i} of the text (received ${describe(id)})`);
      out[i + bos] = id;
    }
    return out;
  }

  /** The text of `ids` (special tokens as their content unless skipSpecial). */
  decode(ids: ArrayLike<number>, opts?: HFDecodeOptions): string {
    const fn = "HFTokenizer.decode";
    if (ids === null || typeof ids !== "object" || typeof ids.length !== "number") throw new TypeError(`${fn}: ids must be an array of token ids, received ${describe(ids)}`);
    const skip = opts?.skipSpecial ?? false;
    if (typeof skip !== "boolean") throw new TypeError(`${fn}: skipSpecial must be a boolean, received ${describe(skip)}`);
    const list: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= this.vocabSize || this.#idToToken[id] === undefined) {
        throw new RangeError(`${fn}: ids[${i}] is ${describe(id)}, not a token id of this tokenizer (ids are in [0, ${this.vocabSize}))`);
      }
      if (!(skip && this.#special.has(id))) list.push(id);
    }
    if (list.length === 0) return "";
    return this.#lib.decode(list, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  /** The id of a token given as its vocabulary string ("Ġthe", "<|begin_of_text|>"), or null. */
  tokenToId(token: string): number | null {
    return this.#tokenToId.get(token) ?? null;
  }

  /** The vocabulary string of an id, or null. */
  idToToken(id: number): string | null {
    return (Number.isInteger(id) && id >= 0 ? this.#idToToken[id] : undefined) ?? null;
  }

  /** The tokenizer.json object this tokenizer was built from (shared, not a copy: do not modify it). */
  toJSON(): Record<string, unknown> {
    return this.#json;
  }
}
