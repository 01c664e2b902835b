// The module system: a tree of layers that owns named parameters (f32 leaves that require grad)
// and buffers, like torch.nn.Module. Names are dotted paths through the tree
// ("model.layers.0.self_attn.q_proj.weight"), so a state dict maps one-to-one onto Hugging Face
// checkpoint names. Registration order is the only order: parameters(), stateDict() and the
// printed tree all walk own entries first, then submodules, each in the order registered.
import { Tensor } from "../tensor/tensor";
import { describe } from "../tensor/dtype";
import { formatShape } from "../tensor/shape";
import { tidy } from "../tensor/scope";
import { isGradEnabled, noGrad, zeroGrad as zeroGradOf } from "../autograd/tape";

/** Options of `Module.loadStateDict`. */
export interface LoadStateDictOptions {
  /**
   * When true (default), a key of the model missing from the map, or a key of the map the model
   * does not have, is an error. When false both are skipped and reported in the result.
   */
  strict?: boolean;
}

/** What `Module.loadStateDict` did: keys it could not fill, keys it did not use (non-strict). */
export interface LoadStateDictResult {
  /** Keys of the model absent from the map (always empty in strict mode). */
  missingKeys: string[];
  /** Keys of the map the model does not have (always empty in strict mode). */
  unexpectedKeys: string[];
}

/** 1234567 -> "1,234,567" (locale-independent, for the printed tree). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * Runs `fn` inside tidy() when nothing is being recorded on the tape (evaluation): the forward's
 * intermediates are then freed as soon as it returns. While recording they must live until
 * backward(), so they are left to the caller's tidy().
 */
export function scopedForward<T>(fn: () => T): T {
  return isGradEnabled() ? fn() : tidy(fn);
}

/**
 * Base class of layers and models. A subclass creates its parameters with `registerParameter`,
 * its buffers with `registerBuffer` and its children with `registerModule` (usually in its
 * constructor) and defines its own `forward`. The module owns what is registered: `dispose()`
 * frees it.
 */
export abstract class Module {
  /** Whether the module is in training mode (set recursively by `train()` / `eval()`). */
  training = true;
  readonly #parameters = new Map<string, Tensor<"f32">>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #modules = new Map<string, Module>();
  #disposed = false;

  /** The class name, as printed in the tree and used in error messages. */
  protected get typeName(): string {
    return this.constructor.name;
  }

  /** Whether dispose() was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Throws if the module was disposed (every public method of a model calls it first). */
  protected checkLive(method: string): void {
    if (this.#disposed) throw new Error(`${this.typeName}.${method}: the module was disposed`);
  }

  #checkName(method: string, name: unknown): asserts name is string {
    if (typeof name !== "string") throw new TypeError(`${this.typeName}.${method}: name must be a string, received ${describe(name)}`);
    if (name === "" || name.includes(".")) {
      throw new RangeError(`${this.typeName}.${method}: name must be a non-empty string without '.', received '${name}'`);
    }
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new RangeError(`${this.typeName}.${method}: '${name}' is already registered`);
    }
  }

  /**
   * Registers `tensor` (an f32 leaf) as a parameter called `name`: it is marked requiresGrad and
   * owned by the module from now on. Returns it.
   */
  protected registerParameter(name: string, tensor: Tensor<"f32">): Tensor<"f32"> {
    this.#checkName("registerParameter", name);
    if (!(tensor instanceof Tensor)) throw new TypeError(`${this.typeName}.registerParameter: tensor must be a Tensor, received ${describe(tensor)}`);
    if (tensor.dtype !== "f32") throw new TypeError(`${this.typeName}.registerParameter: '${name}' must have dtype 'f32', received '${tensor.dtype}'`);
    tensor.requiresGrad_(true);
    this.#parameters.set(name, tensor);
    return tensor;
  }

  /** Registers `tensor` as a buffer (state that is saved in the state dict but not trained). Returns it. */
  protected registerBuffer<T extends Tensor>(name: string, tensor: T): T {
    this.#checkName("registerBuffer", name);
    if (!(tensor instanceof Tensor)) throw new TypeError(`${this.typeName}.registerBuffer: tensor must be a Tensor, received ${describe(tensor)}`);
    this.#buffers.set(name, tensor);
    return tensor;
  }

  /** Registers `module` as the child called `name`. Returns it. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName("registerModule", name);
    if (!(module instanceof Module)) throw new TypeError(`${this.typeName}.registerModule: module must be a Module, received ${describe(module)}`);
    this.#modules.set(name, module);
    return module;
  }

  /** The direct children as [name, module] pairs, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.#modules];
  }

  /** This module ("") and every descendant as [dotted name, module] pairs, depth-first. */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const walk = (prefix: string, m: Module): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.#modules) walk(prefix === "" ? name : `${prefix}.${name}`, child);
    };
    walk("", this);
    return out;
  }

  /**
   * Every parameter as [dotted name, tensor], own first then each child's in registration order.
   * A tensor registered twice (shared weights) appears once, under its first name.
   */
  namedParameters(): [string, Tensor<"f32">][] {
    const out: [string, Tensor<"f32">][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix === "" ? name : `${prefix}.${name}`, p]);
      }
    }
    return out;
  }

  /** The parameters in the order of `namedParameters()` (the order optimizers see). */
  parameters(): Tensor<"f32">[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer as [dotted name, tensor], in the same walk as `namedParameters()`. */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) {
        if (seen.has(b)) continue;
        seen.add(b);
        out.push([prefix === "" ? name : `${prefix}.${name}`, b]);
      }
    }
    return out;
  }

  /** Number of trainable scalars (shared tensors counted once). */
  numParameters(): number {
    let n = 0;
    for (const p of this.parameters()) n += p.numel;
    return n;
  }

  /**
   * The parameters and buffers by dotted name, parameters first. The values are views sharing
   * memory with the module's tensors (cut from the tape): writing them writes the model, and
   * disposing them does not free the model's tensors (dispose them when done, or call this
   * inside tidy()).
   */
  stateDict(): Map<string, Tensor> {
    this.checkLive("stateDict");
    const out = new Map<string, Tensor>();
    for (const [name, p] of this.namedParameters()) out.set(name, p.detach());
    for (const [name, b] of this.namedBuffers()) out.set(name, b.detach());
    return out;
  }

  /**
   * Copies the values of `state` (dotted name -> tensor, e.g. from `stateDict()` of a model with
   * the same configuration, or read from an Arrow file) into the module's parameters and
   * buffers. Every key is checked before anything is copied, so a failing call changes nothing:
   * a shape or dtype different from the model's is always an error; with `strict` (default)
   * missing and unexpected keys are errors too. Gradients are left alone.
   */
  loadStateDict(state: Map<string, Tensor>, opts?: LoadStateDictOptions): LoadStateDictResult {
    const fn = `${this.typeName}.loadStateDict`;
    this.checkLive("loadStateDict");
    if (!(state instanceof Map)) throw new TypeError(`${fn}: state must be a Map from names to tensors, received ${describe(state)}`);
    if (opts !== undefined && (opts === null || typeof opts !== "object")) throw new TypeError(`${fn}: opts must be an object like { strict }, received ${describe(opts)}`);
    const strict = opts?.strict ?? true;
    if (typeof strict !== "boolean") throw new TypeError(`${fn}: strict must be a boolean, received ${describe(strict)}`);
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const missingKeys = [...own.keys()].filter((k) => !state.has(k));
    const unexpectedKeys = [...state.keys()].filter((k) => !own.has(k));
    const shapeOf = (t: unknown): string => (t instanceof Tensor && !t.disposed ? `${formatShape(t.shape)} ${t.dtype}` : describe(t));
    if (strict && missingKeys.length > 0) {
      throw new RangeError(`${fn}: missing keys (strict): ${missingKeys.map((k) => `'${k}' ${shapeOf(own.get(k))}`).join(", ")}`);
    }
    if (strict && unexpectedKeys.length > 0) {
      throw new RangeError(`${fn}: unexpected keys (strict): ${unexpectedKeys.map((k) => `'${k}' ${shapeOf(state.get(k))}`).join(", ")}`);
    }
    const pairs: [Tensor, Tensor][] = [];
    for (const [key, target] of own) {
      if (!state.has(key)) continue;
      const source = state.get(key);
      if (!(source instanceof Tensor)) throw new TypeError(`${fn}: '${key}' must be a Tensor, received ${describe(source)}`);
      if (source.disposed) throw new Error(`${fn}: '${key}' was disposed`);
      if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        throw new RangeError(`${fn}: shape mismatch for '${key}': the model has ${formatShape(target.shape)}, the state dict has ${formatShape(source.shape)}`);
      }
      if (source.dtype !== target.dtype) {
        throw new TypeError(`${fn}: dtype mismatch for '${key}': the model has '${target.dtype}', the state dict has '${source.dtype}'`);
      }
      pairs.push([target, source]);
    }
    noGrad(() => {
      for (const [target, source] of pairs) {
        const c = source.isContiguous() ? source : source.contiguous();
        try {
          (target.data() as Float32Array).set(c.data() as Float32Array);
        } finally {
          if (c !== source) c.dispose();
        }
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and every descendant (`eval()` is `train(false)`). Returns this. */
  train(mode = true): this {
    if (typeof mode !== "boolean") throw new TypeError(`${this.typeName}.train: mode must be a boolean, received ${describe(mode)}`);
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode recursively (`train(false)`). Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Disposes and clears the gradient of every parameter. */
  zeroGrad(): void {
    zeroGradOf(this.parameters());
  }

  /** Frees every parameter (and its gradient) and buffer of the tree. Idempotent. */
  dispose(): void {
    const params = this.parameters();
    const buffers = this.namedBuffers().map(([, b]) => b);
    zeroGradOf(params);
    for (const t of [...params, ...buffers]) t.dispose();
    for (const [, m] of this.namedModules()) m.#disposed = true;
  }

  /**
   * The constructor arguments shown between the parentheses of the printed tree, e.g.
   * "inFeatures=64, outFeatures=32". Subclasses override it; the default is empty.
   */
  protected extraRepr(): string {
    return "";
  }

  /**
   * A readable tree like PyTorch's print(model): each module with its settings, a leaf's
   * parameter shapes, and parameter counts (a run of identical children is folded into one
   * entry "(0-3): 4 x BitNetBlock(...)").
   */
  toString(): string {
    const lines = this.#reprLines();
    lines[0] = withCount(lines[0], this.numParameters(), "");
    return lines.join("\n");
  }

  /** Node's util.inspect (console.log, the notebook) prints the tree. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** The lines of this module's entry (without its "(name): " label and its count). */
  #reprLines(): string[] {
    const head = `${this.typeName}(${this.extraRepr()})`;
    const own = [...this.#parameters, ...this.#buffers];
    if (this.#modules.size === 0) {
      if (this.#disposed) return [`${head}  # disposed`];
      if (own.length === 0) return [head];
      return [`${head}  # ${own.map(([name, t]) => `${name} ${formatShape(t.shape)}`).join(", ")}`];
    }
    // As in PyTorch, a container's settings are its first inner line.
    const extra = this.extraRepr();
    const lines = [`${this.typeName}(`];
    if (extra !== "") lines.push(`  ${extra}`);
    for (const [name, t] of own) lines.push(`  (${name}): ${t.dtype} ${formatShape(t.shape)}`);
    const children = [...this.#modules].map(([name, m]) => ({ name, lines: m.#reprLines(), count: m.numParameters() }));
    for (let i = 0; i < children.length; ) {
      // Fold a run of consecutively numbered children with the same printout (ModuleList).
      const key = children[i].lines.join("\n");
      let j = i + 1;
      while (
        j < children.length &&
        /^\d+$/.test(children[j].name) &&
        Number(children[j].name) === Number(children[j - 1].name) + 1 &&
        children[j].lines.join("\n") === key
      ) {
        j++;
      }
      const c = children[i];
      const run = j - i;
      const label = run > 1 ? `(${c.name}-${children[j - 1].name}): ${run} x ` : `(${c.name}): `;
      lines.push(`  ${label}${withCount(c.lines[0], c.count, run > 1 ? " each" : "")}`);
      for (let k = 1; k < c.lines.length; k++) lines.push(`  ${c.lines[k]}`);
      i = j;
    }
    lines.push(")");
    return lines;
  }
}

/** Appends "N parameters" to the comment of a printed line (or starts one). */
function withCount(line: string, count: number, suffix: string): string {
  if (count === 0 && !line.endsWith("(")) return line;
  const text = `${formatCount(count)} parameters${suffix}`;
  return line.includes("  # ") ? `${line}: ${text}` : `${line}  # ${text}`;
}

/**
 * An indexable list of modules registered as children "0", "1", ... (parameter names
 * "layers.0.weight", ...), like torch.nn.ModuleList.
 */
export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  /** A list holding `modules` in order. */
  constructor(modules: readonly M[] = []) {
    super();
    if (!Array.isArray(modules)) throw new TypeError(`ModuleList: modules must be an array of modules, received ${describe(modules)}`);
    for (const m of modules) this.push(m);
  }

  /** Appends `module` as child `String(length)`. */
  push(module: M): void {
    this.registerModule(String(this.#items.length), module);
    this.#items.push(module);
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    if (typeof index !== "number" || !Number.isInteger(index)) throw new TypeError(`ModuleList.at: index must be an integer, received ${describe(index)}`);
    const n = this.#items.length;
    if (index < -n || index >= n) throw new RangeError(`ModuleList.at: index must be in [${-n}, ${n - 1}], received ${index}`);
    return this.#items[index < 0 ? index + n : index];
  }

  /** Number of modules. */
  get length(): number {
    return this.#items.length;
  }

  /** The modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}
