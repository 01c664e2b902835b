// Tokenizers for character-level language modelling: UTF-8 bytes (a fixed vocabulary of 256)
// and the characters of a text (the vocabulary of nanoGPT's shakespeare_char: sorted(set(text))).
import { describe } from "../tensor/dtype";
import { Tensor } from "../tensor/tensor";

/** The serialized form of a tokenizer, for checkpoints (see {@link tokenizerFromJSON}). */
export type TokenizerJSON = ByteTokenizerJSON | CharTokenizerJSON;

/** Serialized {@link ByteTokenizer}. */
export interface ByteTokenizerJSON {
  type: "byte";
}

/** Serialized {@link CharTokenizer}: token id i is `vocabulary[i]`. */
export interface CharTokenizerJSON {
  type: "char";
  /** One character (Unicode code point) per token id. */
  vocabulary: string[];
}

/** Token ids to decode: a typed array, an array of numbers, or an i32 tensor (any shape, read in row-major order). */
export type TokenIds = ArrayLike<number> | Tensor;

/** What {@link TextDataset} and sampling code need from a tokenizer. */
export interface Tokenizer {
  /** Number of distinct token ids: every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /** Token ids of `text`. */
  encode(text: string): Int32Array;
  /** The text of token ids (the inverse of encode). */
  decode(ids: TokenIds): string;
  /** A JSON-safe description that {@link tokenizerFromJSON} turns back into an equal tokenizer. */
  toJSON(): TokenizerJSON;
}

function checkText(fn: string, text: unknown): string {
  if (typeof text !== "string") throw new TypeError(`${fn}: text must be a string, received ${describe(text)}`);
  return text;
}

/**
 * The ids as an indexable list, checked to be integers in [0, vocabSize). A tensor must be i32;
 * a non-contiguous one is copied.
 */
function readIds(ids: unknown, vocabSize: number, fn: string): ArrayLike<number> {
  let list: ArrayLike<number>;
  if (ids instanceof Tensor) {
    if (ids.dtype !== "i32") throw new TypeError(`${fn}: an ids tensor must have dtype 'i32', received '${ids.dtype}'`);
    if (ids.disposed) throw new TypeError(`${fn}: the ids tensor was disposed`);
    if (ids.isContiguous()) {
      list = ids.data() as Int32Array;
    } else {
      const c = ids.contiguous();
      try {
        list = (c.data() as Int32Array).slice();
      } finally {
        c.dispose();
      }
    }
  } else if (Array.isArray(ids) || (ArrayBuffer.isView(ids) && !(ids instanceof DataView))) {
    list = ids as ArrayLike<number>;
  } else {
    throw new TypeError(`${fn}: ids must be an array of numbers, a typed array or an i32 Tensor, received ${describe(ids)}`);
  }
  for (let i = 0; i < list.length; i++) {
    const id = list[i];
    if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new RangeError(`${fn}: ids[${i}] must be an integer in [0, ${vocabSize}), received ${describe(id)}`);
    }
  }
  return list;
}

/** "U+00E9" for a code point. */
function codePointName(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Bytes as tokens: `encode` gives the UTF-8 bytes of the text (ids 0..255), so any text has a
 * tokenization and the vocabulary never changes. Round trips are exact for well-formed strings;
 * a lone surrogate encodes as U+FFFD (what UTF-8 encoding does), and ids that are not valid
 * UTF-8 (as a model may sample) decode to U+FFFD rather than failing.
 */
export class ByteTokenizer implements Tokenizer {
  /** Always 256. */
  readonly vocabSize = 256;
  // ignoreBOM: a leading U+FEFF is text like any other and must survive the round trip.
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  readonly #encoder = new TextEncoder();

  /** UTF-8 bytes of `text`, one id each. */
  encode(text: string): Int32Array {
    const bytes = this.#encoder.encode(checkText("ByteTokenizer.encode", text));
    return Int32Array.from(bytes);
  }

  /** Decodes ids (bytes 0..255) as UTF-8; invalid sequences become U+FFFD. */
  decode(ids: TokenIds): string {
    const list = readIds(ids, 256, "ByteTokenizer.decode");
    return this.#decoder.decode(Uint8Array.from(list));
  }

  /** `{ type: "byte" }`. */
  toJSON(): ByteTokenizerJSON {
    return { type: "byte" };
  }

  /** A ByteTokenizer from its JSON (`{ type: "byte" }`). */
  static fromJSON(json: unknown): ByteTokenizer {
    const fn = "ByteTokenizer.fromJSON";
    if (!isPlainObject(json)) throw new TypeError(`${fn}: json must be an object { type: "byte" }, received ${describe(json)}`);
    if (json.type !== "byte") throw new TypeError(`${fn}: json.type must be 'byte', received ${describe(json.type)}`);
    return new ByteTokenizer();
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `s` is exactly one code point (a surrogate pair, or any single UTF-16 unit). */
function isOneCodePoint(s: string): boolean {
  if (s.length === 1) return true;
  if (s.length !== 2) return false;
  const hi = s.charCodeAt(0);
  const lo = s.charCodeAt(1);
  return hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff;
}

/**
 * Characters as tokens: the vocabulary is a list of characters (Unicode code points) and token
 * id i is the i-th. `CharTokenizer.fromText(text)` uses the sorted set of the text's characters,
 * ordered by code point exactly like Python's `sorted(set(text))` (which is not JavaScript's
 * default string sort: that compares UTF-16 units and puts emoji before U+E000..U+FFFF).
 * Encoding a character outside the vocabulary is a RangeError.
 */
export class CharTokenizer implements Tokenizer {
  /** Number of characters in the vocabulary. */
  readonly vocabSize: number;
  readonly #vocabulary: readonly string[];
  // Ids of the Basic Multilingual Plane characters (-1 where absent): a flat table keeps encode
  // at one array read per character; the rare astral characters go through the map.
  readonly #bmp = new Int32Array(0x10000).fill(-1);
  readonly #astral = new Map<number, number>();

  /**
   * A tokenizer with the given vocabulary, in the given order (a saved one: ids stay as they
   * were). Each entry must be one character (code point) and appear once.
   */
  constructor(vocabulary: readonly string[]) {
    const fn = "CharTokenizer";
    if (!Array.isArray(vocabulary)) throw new TypeError(`${fn}: vocabulary must be an array of characters, received ${describe(vocabulary)}`);
    if (vocabulary.length === 0) throw new RangeError(`${fn}: vocabulary must hold at least one character, received an empty array`);
    vocabulary.forEach((ch, i) => {
      if (typeof ch !== "string") throw new TypeError(`${fn}: vocabulary[${i}] must be a string, received ${describe(ch)}`);
      if (!isOneCodePoint(ch)) {
        throw new RangeError(`${fn}: vocabulary[${i}] must be exactly one character (code point), received ${JSON.stringify(ch)}`);
      }
      const cp = ch.codePointAt(0) as number;
      const seen = cp < 0x10000 ? this.#bmp[cp] : this.#astral.get(cp) ?? -1;
      if (seen >= 0) throw new RangeError(`${fn}: vocabulary[${i}] ${JSON.stringify(ch)} (${codePointName(cp)}) repeats vocabulary[${seen}]`);
      if (cp < 0x10000) this.#bmp[cp] = i;
      else this.#astral.set(cp, i);
    });
    this.#vocabulary = Object.freeze(vocabulary.slice());
    this.vocabSize = vocabulary.length;
  }

  /**
   * The tokenizer of a text: its distinct characters sorted by code point (Python's
   * `sorted(set(text))`).
   */
  static fromText(text: string): CharTokenizer {
    const fn = "CharTokenizer.fromText";
    checkText(fn, text);
    if (text.length === 0) throw new RangeError(`${fn}: text must not be empty (it has no characters to make a vocabulary of)`);
    const bmp = new Uint8Array(0x10000);
    const astral = new Set<number>();
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          astral.add(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
          i++;
          continue;
        }
      }
      bmp[c] = 1;
    }
    const vocabulary: string[] = [];
    for (let cp = 0; cp < 0x10000; cp++) if (bmp[cp] === 1) vocabulary.push(String.fromCharCode(cp));
    for (const cp of [...astral].sort((a, b) => a - b)) vocabulary.push(String.fromCodePoint(cp));
    return new CharTokenizer(vocabulary);
  }

  /** A CharTokenizer from its JSON (`{ type: "char", vocabulary: [...] }`). */
  static fromJSON(json: unknown): CharTokenizer {
    const fn = "CharTokenizer.fromJSON";
    if (!isPlainObject(json)) throw new TypeError(`${fn}: json must be an object { type: "char", vocabulary: [...] }, received ${describe(json)}`);
    if (json.type !== "char") throw new TypeError(`${fn}: json.type must be 'char', received ${describe(json.type)}`);
    if (!Array.isArray(json.vocabulary)) throw new TypeError(`${fn}: json.vocabulary must be an array of characters, received ${describe(json.vocabulary)}`);
    try {
      return new CharTokenizer(json.vocabulary as string[]);
    } catch (e) {
      const Ctor = e instanceof RangeError ? RangeError : TypeError;
      throw new Ctor(`${fn}: ${(e as Error).message.replace(/^CharTokenizer: /, "json.")}`);
    }
  }

  /** The characters, index = token id (frozen). */
  get vocabulary(): readonly string[] {
    return this.#vocabulary;
  }

  /** Id of each code point of `text`; a character outside the vocabulary is a RangeError naming it and its position (code point index). */
  encode(text: string): Int32Array {
    const fn = "CharTokenizer.encode";
    checkText(fn, text);
    const n = text.length;
    const out = new Int32Array(n);
    const bmp = this.#bmp;
    let count = 0;
    for (let i = 0; i < n; i++) {
      let cp = text.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i++;
        }
      }
      const id = cp < 0x10000 ? bmp[cp] : this.#astral.get(cp) ?? -1;
      if (id < 0) {
        throw new RangeError(
          `${fn}: character ${JSON.stringify(String.fromCodePoint(cp))} (${codePointName(cp)}) at position ${count} is not in the vocabulary of ${this.vocabSize} characters`,
        );
      }
      out[count++] = id;
    }
    return count === n ? out : out.slice(0, count);
  }

  /** The characters of the ids, concatenated. */
  decode(ids: TokenIds): string {
    const list = readIds(ids, this.vocabSize, "CharTokenizer.decode");
    const vocabulary = this.#vocabulary;
    // Joining pieces of bounded size keeps the intermediate arrays small for long texts.
    const CHUNK = 1 << 16;
    const parts: string[] = [];
    for (let start = 0; start < list.length; start += CHUNK) {
      const end = Math.min(list.length, start + CHUNK);
      const piece = new Array<string>(end - start);
      for (let i = start; i < end; i++) piece[i - start] = vocabulary[list[i]];
      parts.push(piece.join(""));
    }
    return parts.join("");
  }

  /** `{ type: "char", vocabulary }`. */
  toJSON(): CharTokenizerJSON {
    return { type: "char", vocabulary: this.#vocabulary.slice() };
  }
}

/** The tokenizer a {@link Tokenizer.toJSON} result describes (ByteTokenizer or CharTokenizer). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  const fn = "tokenizerFromJSON";
  if (!isPlainObject(json)) throw new TypeError(`${fn}: json must be an object with a type 'byte' or 'char', received ${describe(json)}`);
  if (json.type === "byte") return ByteTokenizer.fromJSON(json);
  if (json.type === "char") return CharTokenizer.fromJSON(json);
  throw new TypeError(`${fn}: json.type must be 'byte' or 'char', received ${describe(json.type)}`);
}

/** Whether `value` has the shape of a {@link Tokenizer}. */
export function isTokenizer(value: unknown): value is Tokenizer {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<Tokenizer>;
  return typeof t.encode === "function" && typeof t.decode === "function" && typeof t.vocabSize === "number" && Number.isSafeInteger(t.vocabSize) && t.vocabSize > 0;
}
