// A cache of loaded models with a byte budget: a notebook or a server switching between a few
// checkpoints keeps the recently used ones loaded and drops the least recently used when the
// budget is exceeded. Evicted models are disposed (their file mappings released): an engine still
// holding one fails with "the packed model was disposed", never with freed memory.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe } from "../tensor/dtype";
import { PackedModel } from "./pack";
import { loadPackedModel } from "../formats/packed";
import { loadGGUF } from "../formats/gguf";
import { loadHFBitNet } from "../formats/huggingface";

/** Counters of a {@link ModelCache}. */
export interface ModelCacheStats {
  hits: number;
  misses: number;
  evictions: number;
  /** Models held now, and their bytes. */
  models: number;
  bytes: number;
  maxBytes: number;
}

interface Entry {
  model: PackedModel;
  bytes: number;
  /** File identity for load(): a changed file is loaded again. */
  stamp: string;
}

/** Loads a model file by its kind; {@link ModelCache.load} uses it. */
export type ModelLoader = (filePath: string) => PackedModel;

/** Least-recently-used models within `maxBytes` (the models' own {@link PackedModel.bytes}). */
export class ModelCache {
  readonly maxBytes: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #counters = { hits: 0, misses: 0, evictions: 0 };
  readonly #loaders: { test: (filePath: string) => boolean; load: ModelLoader }[] = [];

  constructor(opts: { maxBytes: number }) {
    const fn = "ModelCache";
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: opts must be an object with maxBytes, received ${describe(opts)}`);
    if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 1) throw new RangeError(`${fn}: maxBytes must be a positive integer, received ${describe(opts.maxBytes)}`);
    this.maxBytes = opts.maxBytes;
    this.addLoader((p) => p.toLowerCase().endsWith(".gguf"), (p) => loadGGUF(p).model);
    this.addLoader((p) => fs.existsSync(path.join(p, "config.json")), (p) => loadHFBitNet(p).model);
  }

  get stats(): ModelCacheStats {
    return { ...this.#counters, models: this.#entries.size, bytes: this.#bytes, maxBytes: this.maxBytes };
  }

  /** Keys from least to most recently used. */
  keys(): string[] {
    return [...this.#entries.keys()];
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /**
   * The model cached under `key`, or the one `load()` returns (then cached; least recently used
   * models are evicted and disposed until the budget holds). A model larger than the whole budget
   * is disposed and refused.
   */
  get(key: string, load: () => PackedModel, stamp = ""): PackedModel {
    const fn = "ModelCache.get";
    if (typeof key !== "string") throw new TypeError(`${fn}: key must be a string, received ${describe(key)}`);
    if (typeof load !== "function") throw new TypeError(`${fn}: load must be a function returning a PackedModel, received ${describe(load)}`);
    const hit = this.#entries.get(key);
    if (hit && hit.stamp === stamp && !hit.model.disposed) {
      this.#counters.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit.model;
    }
    if (hit) this.delete(key);
    this.#counters.misses++;
    const model = load();
    if (!(model instanceof PackedModel)) throw new TypeError(`${fn}: load() must return a PackedModel, received ${describe(model)}`);
    const bytes = model.bytes;
    if (bytes > this.maxBytes) {
      model.dispose();
      throw new RangeError(`${fn}: '${key}' takes ${bytes} bytes, more than the cache's maxBytes ${this.maxBytes}`);
    }
    for (const [k, e] of this.#entries) {
      if (this.#bytes + bytes <= this.maxBytes) break;
      this.#remove(k, e);
      this.#counters.evictions++;
    }
    this.#entries.set(key, { model, bytes, stamp });
    this.#bytes += bytes;
    return model;
  }

  /**
   * Loads a model file through the cache, keyed by its absolute path; a file modified since it
   * was cached is loaded again. `.gguf` files through loadGGUF, Hugging Face checkpoint
   * directories (with a config.json) through loadHFBitNet, other files as our packed-model
   * files; {@link addLoader} adds kinds.
   */
  load(filePath: string): PackedModel {
    const fn = "ModelCache.load";
    if (typeof filePath !== "string" || filePath === "") throw new TypeError(`${fn}: path must be a non-empty string, received ${describe(filePath)}`);
    const key = path.resolve(filePath);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(key);
    } catch (e) {
      throw new Error(`${fn}: cannot read '${filePath}': ${(e as Error).message}`);
    }
    const loader = this.#loaders.find((l) => l.test(key))?.load ?? ((p: string) => loadPackedModel(p));
    return this.get(key, () => loader(key), `${stat.size}:${stat.mtimeMs}`);
  }

  /** Routes files that `test` accepts to `load` in {@link load} (checked in the order added). */
  addLoader(test: (filePath: string) => boolean, load: ModelLoader): void {
    this.#loaders.push({ test, load });
  }

  /** Disposes and forgets the model under `key`. */
  delete(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    this.#remove(key, e);
    return true;
  }

  /** Disposes every cached model. */
  clear(): void {
    for (const [k, e] of [...this.#entries]) this.#remove(k, e);
  }

  #remove(key: string, e: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= e.bytes;
    e.model.dispose();
  }
}
