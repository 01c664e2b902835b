// Token streams for language-model training: a train/validation split that matches the PyTorch
// reference block for block, random training batches from a seeded Generator, and the
// validation text cut into non-overlapping windows.
import { DataType, Table, Vector, isArrowTable } from "apache-arrow";
import { tensorFromArrow } from "../arrow/tensor";
import { describe } from "../tensor/dtype";
import { Generator } from "../tensor/random";
import { Tensor } from "../tensor/tensor";
import { checkGenerator, uniformIntegers } from "./random";
import { checkInteger } from "../validate";
import { CharTokenizer, Tokenizer, isTokenizer } from "./tokenizer";
import { readFileBytes } from "../io/file-bytes";

/** Tokens per block of the train/validation split. */
export const SPLIT_BLOCK_TOKENS = 4096;
/** Every this-many-th block (indices 9, 19, ...) of the split is validation. */
export const VALIDATION_EVERY = 10;

/** One batch of next-token prediction: `targets[b, t]` is the token after `inputs[b, t]`. */
export interface TokenBatch {
  /** Token ids [B, T]. */
  inputs: Tensor<"i32">;
  /** The same windows shifted one token right [B, T]. */
  targets: Tensor<"i32">;
}

/** The two parts of a token sequence (see {@link splitTokens}). */
export interface TokenSplit {
  /** The training blocks, concatenated in order. */
  train: Int32Array;
  /** The validation blocks, concatenated in order. */
  validation: Int32Array;
}

/** Options of the {@link TextDataset} constructor. */
export interface TextDatasetOptions {
  /** The tokenizer that made the ids (kept for decoding samples; its vocabSize bounds the ids). */
  tokenizer?: Tokenizer;
  /** Number of token ids (default: the tokenizer's, else the largest id + 1). */
  vocabSize?: number;
}

/** Options of {@link TextDataset.fromArrow}. */
export interface TextDatasetArrowOptions {
  /** Column to read (default: the table's only column). */
  column?: string;
  /** Tokenizer for a string column (default: {@link CharTokenizer.fromText} of the text); kept for an ids column. */
  tokenizer?: Tokenizer;
  /** What joins the rows of a string column into one text (default "\n"). */
  separator?: string;
}

/**
 * Splits a token sequence exactly like this PyTorch reference: cut into blocks of
 * {@link SPLIT_BLOCK_TOKENS} (4096) tokens, the last one possibly shorter; blocks 9, 19, 29, ...
 * are validation, all others training.
 *
 * ```python
 * blocks = data.split(4096)
 * train = torch.cat([b for i, b in enumerate(blocks) if i % 10 != 9])
 * val = torch.cat([b for i, b in enumerate(blocks) if i % 10 == 9])
 * ```
 *
 * Interleaving keeps the validation text spread over the whole corpus (every genre of a corpus
 * stored genre by genre) without cutting it into windows shorter than a block. Both parts are
 * new arrays.
 */
export function splitTokens(ids: Int32Array): TokenSplit {
  if (!(ids instanceof Int32Array)) throw new TypeError(`splitTokens: ids must be an Int32Array, received ${describe(ids)}`);
  const n = ids.length;
  const blocks = Math.ceil(n / SPLIT_BLOCK_TOKENS);
  let validationLength = 0;
  for (let b = VALIDATION_EVERY - 1; b < blocks; b += VALIDATION_EVERY) {
    validationLength += Math.min(n, (b + 1) * SPLIT_BLOCK_TOKENS) - b * SPLIT_BLOCK_TOKENS;
  }
  const train = new Int32Array(n - validationLength);
  const validation = new Int32Array(validationLength);
  let t = 0;
  let v = 0;
  for (let b = 0; b < blocks; b++) {
    const block = ids.subarray(b * SPLIT_BLOCK_TOKENS, Math.min(n, (b + 1) * SPLIT_BLOCK_TOKENS));
    if (b % VALIDATION_EVERY === VALIDATION_EVERY - 1) {
      validation.set(block, v);
      v += block.length;
    } else {
      train.set(block, t);
      t += block.length;
    }
  }
  return { train, validation };
}

function checkTokenizer(fn: string, tokenizer: unknown): Tokenizer | undefined {
  if (tokenizer === undefined) return undefined;
  if (!isTokenizer(tokenizer)) {
    throw new TypeError(`${fn}: tokenizer must be a Tokenizer (ByteTokenizer, CharTokenizer or an object with encode, decode and vocabSize), received ${describe(tokenizer)}`);
  }
  return tokenizer;
}

function checkOptionsObject(fn: string, opts: unknown): Record<string, unknown> {
  if (opts === undefined) return {};
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new TypeError(`${fn}: options must be an object, received ${describe(opts)}`);
  return opts as Record<string, unknown>;
}

/** Encodes with the tokenizer, putting `fn` in front of its errors. */
function encodeNamed(tokenizer: Tokenizer, text: string, fn: string): Int32Array {
  try {
    return tokenizer.encode(text);
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    const Ctor = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
    throw new Ctor(`${fn}: ${e.message}`, { cause: e });
  }
}

/**
 * A tokenized text split into training and validation tokens (see {@link splitTokens}), with
 * random training batches and the validation text in windows.
 *
 * ```ts
 * const data = TextDataset.fromText(brownCorpus());       // character-level
 * const g = new Generator(1337);
 * const { inputs, targets } = data.batch(32, 256, g);     // [32, 256] i32 each
 * for (const { inputs, targets } of data.validationBatches(32, 256)) { ... }
 * ```
 */
export class TextDataset {
  /** The training tokens (blocks 0-8, 10-18, ... concatenated). */
  readonly train: Int32Array;
  /** The validation tokens (blocks 9, 19, ... concatenated); empty for texts of 36,864 tokens or fewer. */
  readonly validation: Int32Array;
  /** Number of token ids: every id is in [0, vocabSize). */
  readonly vocabSize: number;
  /** The tokenizer of the text, when known (to decode samples). */
  readonly tokenizer: Tokenizer | undefined;

  /**
   * A dataset of token ids (the array is split into new arrays, not kept). Ids must be integers
   * in [0, vocabSize); the vocabulary size comes from `opts.vocabSize`, else the tokenizer, else
   * the largest id + 1.
   */
  constructor(ids: Int32Array, opts?: TextDatasetOptions) {
    const fn = "TextDataset";
    if (!(ids instanceof Int32Array)) throw new TypeError(`${fn}: ids must be an Int32Array of token ids, received ${describe(ids)}`);
    if (ids.length === 0) throw new RangeError(`${fn}: ids must hold at least one token, received an empty Int32Array`);
    const options = checkOptionsObject(fn, opts);
    const tokenizer = checkTokenizer(fn, options.tokenizer);
    let vocabSize: number;
    if (options.vocabSize !== undefined) vocabSize = checkInteger(fn, "vocabSize", options.vocabSize, 1);
    else if (tokenizer !== undefined) vocabSize = tokenizer.vocabSize;
    else {
      let max = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i] > max) max = ids[i];
      vocabSize = max + 1;
    }
    if (tokenizer !== undefined && vocabSize !== tokenizer.vocabSize) {
      throw new RangeError(`${fn}: vocabSize ${vocabSize} differs from the tokenizer's vocabSize ${tokenizer.vocabSize}`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < 0 || id >= vocabSize) throw new RangeError(`${fn}: ids[${i}] must be a token id in [0, ${vocabSize}), received ${id}`);
    }
    const { train, validation } = splitTokens(ids);
    this.train = train;
    this.validation = validation;
    this.vocabSize = vocabSize;
    this.tokenizer = tokenizer;
  }

  /** A dataset of `text` encoded by `tokenizer` (default: {@link CharTokenizer.fromText} of the text). */
  static fromText(text: string, tokenizer?: Tokenizer): TextDataset {
    const fn = "TextDataset.fromText";
    if (typeof text !== "string") throw new TypeError(`${fn}: text must be a string, received ${describe(text)}`);
    if (text.length === 0) throw new RangeError(`${fn}: text must not be empty`);
    const tok = checkTokenizer(fn, tokenizer) ?? CharTokenizer.fromText(text);
    return new TextDataset(encodeNamed(tok, text, fn), { tokenizer: tok });
  }

  /**
   * A dataset of a UTF-8 text file encoded by `tokenizer` (default: {@link CharTokenizer.fromText}
   * of the file's text).
   *
   * @throws Error naming the file when it cannot be read.
   */
  static fromFile(path: string, tokenizer?: Tokenizer): TextDataset {
    const fn = "TextDataset.fromFile";
    if (typeof path !== "string" || path.length === 0) throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(path)}`);
    checkTokenizer(fn, tokenizer);
    // Regular files only (a FIFO or /dev/zero is refused, not read forever), one buffer at most.
    const text = new TextDecoder("utf-8").decode(readFileBytes(path, fn, { map: false }));
    if (text.length === 0) throw new RangeError(`${fn}: the file '${path}' is empty`);
    const tok = tokenizer ?? CharTokenizer.fromText(text);
    return new TextDataset(encodeNamed(tok, text, `${fn}: '${path}'`), { tokenizer: tok });
  }

  /**
   * A dataset of one column of an Arrow table: a string column (Utf8, LargeUtf8, Utf8View, or a
   * dictionary of those, as `tableFromArrays` makes; the rows joined by `separator`, then encoded
   * by the tokenizer) or a token-id column (Int32, or an
   * `arrow.fixed_shape_tensor` / FixedSizeList column of Int32, read in row order). Null rows
   * are an error.
   */
  static fromArrow(table: Table, opts?: TextDatasetArrowOptions): TextDataset {
    const fn = "TextDataset.fromArrow";
    if (!isArrowTable(table)) throw new TypeError(`${fn}: table must be an Arrow Table, received ${describe(table)}`);
    const options = checkOptionsObject(fn, opts);
    const tokenizer = checkTokenizer(fn, options.tokenizer);
    const separator = options.separator ?? "\n";
    if (typeof separator !== "string") throw new TypeError(`${fn}: separator must be a string, received ${describe(separator)}`);
    const names = table.schema.fields.map((f) => f.name);
    let column = options.column;
    if (column === undefined) {
      if (names.length !== 1) {
        throw new RangeError(`${fn}: the table has ${names.length} columns (${names.map((n) => `'${n}'`).join(", ")}); pass opts.column to choose one`);
      }
      column = names[0];
    }
    if (typeof column !== "string") throw new TypeError(`${fn}: column must be a string, received ${describe(column)}`);
    const vector = table.getChild(column) as Vector | null;
    if (vector === null) throw new RangeError(`${fn}: the table has no column '${column}' (it has ${names.map((n) => `'${n}'`).join(", ") || "none"})`);
    const label = `${fn}: column '${column}'`;
    if (vector.length === 0) throw new RangeError(`${label} has no rows`);
    if (vector.nullCount > 0) throw new RangeError(`${label} has ${vector.nullCount} null rows of ${vector.length}`);
    const type = vector.type as DataType;
    const isString = (t: DataType): boolean => DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isUtf8View(t);
    // tableFromArrays and polars store strings dictionary-encoded; iterating decodes them.
    if (isString(type) || (DataType.isDictionary(type) && isString(type.dictionary))) {
      const rows: string[] = [];
      for (const s of vector as Iterable<string>) rows.push(s);
      const text = rows.join(separator);
      if (text.length === 0) throw new RangeError(`${label} holds only empty strings`);
      const tok = tokenizer ?? CharTokenizer.fromText(text);
      return new TextDataset(encodeNamed(tok, text, label), { tokenizer: tok });
    }
    let ids: Int32Array;
    if (DataType.isInt(type) && type.bitWidth === 32 && type.isSigned) {
      ids = Int32Array.from(vector.toArray() as Int32Array);
    } else if (DataType.isFixedSizeList(type) && DataType.isInt(type.children[0].type) && type.children[0].type.bitWidth === 32 && type.children[0].type.isSigned) {
      const t = tensorFromArrow(table, column);
      try {
        const c = t.contiguous();
        try {
          ids = (c.data() as Int32Array).slice();
        } finally {
          c.dispose();
        }
      } finally {
        t.dispose();
      }
    } else {
      throw new TypeError(`${label} must be a string (Utf8) column or an Int32 token-id column, received type ${String(type)}`);
    }
    try {
      return new TextDataset(ids, { tokenizer });
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      const Ctor = e instanceof RangeError ? RangeError : e instanceof TypeError ? TypeError : Error;
      throw new Ctor(`${label}: ${e.message.replace(/^TextDataset: /, "")}`, { cause: e });
    }
  }

  /** Number of tokens in both parts. */
  get length(): number {
    return this.train.length + this.validation.length;
  }

  /**
   * A random training batch: `batchSize` offsets i drawn uniformly from
   * [0, train.length - seqLen - 1) with `generator` (the same seed gives the same batch), and
   * `inputs[b] = train[i : i + seqLen]`, `targets[b] = train[i + 1 : i + seqLen + 1]`, both
   * [batchSize, seqLen] i32 tensors the caller disposes. Each call advances the generator by
   * `batchSize` 64-bit draws.
   *
   * @throws RangeError when batchSize or seqLen is not an integer >= 1, or the training part has
   *   fewer than seqLen + 2 tokens; TypeError when generator is not a Generator.
   */
  batch(batchSize: number, seqLen: number, generator: Generator): TokenBatch {
    const fn = "TextDataset.batch";
    checkInteger(fn, "batchSize", batchSize, 1);
    checkInteger(fn, "seqLen", seqLen, 1);
    checkGenerator(fn, generator);
    const train = this.train;
    const high = train.length - seqLen - 1;
    if (high < 1) {
      throw new RangeError(`${fn}: seqLen ${seqLen} needs at least ${seqLen + 2} training tokens, the training part has ${train.length}`);
    }
    const offsets = uniformIntegers(generator, batchSize, high);
    const inputs = Tensor.empty([batchSize, seqLen], "i32", false, fn);
    const targets = Tensor.empty([batchSize, seqLen], "i32", false, fn);
    const x = inputs.data();
    const y = targets.data();
    for (let b = 0; b < batchSize; b++) {
      const i = offsets[b];
      x.set(train.subarray(i, i + seqLen), b * seqLen);
      y.set(train.subarray(i + 1, i + seqLen + 1), b * seqLen);
    }
    return { inputs, targets };
  }

  /**
   * Number of validation windows of `seqLen` tokens: floor((validation.length - 1) / seqLen).
   */
  validationWindows(seqLen: number): number {
    checkInteger("TextDataset.validationWindows", "seqLen", seqLen, 1);
    return this.validation.length === 0 ? 0 : Math.floor((this.validation.length - 1) / seqLen);
  }

  /**
   * The validation text as every non-overlapping window of `seqLen` tokens, in order: window w
   * has `inputs = validation[w*T : (w+1)*T]` and `targets` shifted by one; there are
   * n = floor((validation.length - 1) / seqLen) windows, grouped `batchSize` at a time (the last
   * batch may be smaller). Each yielded pair is [b, seqLen] i32 tensors the caller disposes;
   * they are made as the iterator advances. Arguments are checked at the call.
   *
   * @throws RangeError when batchSize or seqLen is not an integer >= 1 or the validation part
   *   has fewer than seqLen + 1 tokens.
   */
  validationBatches(batchSize: number, seqLen: number): IterableIterator<TokenBatch> {
    const fn = "TextDataset.validationBatches";
    checkInteger(fn, "batchSize", batchSize, 1);
    checkInteger(fn, "seqLen", seqLen, 1);
    const validation = this.validation;
    const windows = this.validationWindows(seqLen);
    if (windows < 1) {
      throw new RangeError(
        `${fn}: seqLen ${seqLen} needs at least ${seqLen + 1} validation tokens, the validation part has ${validation.length}` +
          (validation.length === 0 ? ` (texts of ${(VALIDATION_EVERY - 1) * SPLIT_BLOCK_TOKENS} tokens or fewer have none)` : ""),
      );
    }
    return (function* (): IterableIterator<TokenBatch> {
      for (let first = 0; first < windows; first += batchSize) {
        const rows = Math.min(batchSize, windows - first);
        const inputs = Tensor.empty([rows, seqLen], "i32", false, fn);
        const targets = Tensor.empty([rows, seqLen], "i32", false, fn);
        const start = first * seqLen;
        inputs.data().set(validation.subarray(start, start + rows * seqLen));
        targets.data().set(validation.subarray(start + 1, start + rows * seqLen + 1));
        yield { inputs, targets };
      }
    })();
  }
}
