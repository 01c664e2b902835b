// Memory scopes: chained ops (`a.reshape(...).transpose(...)`) create intermediates nobody holds.
// tidy() disposes every tensor created inside it except those it returns, like tf.tidy.
import type { Tensor } from "./tensor";

const scopes: Set<Tensor>[] = [];

/** Records a new tensor in the innermost open scope (called by the Tensor constructor). */
export function trackTensor(t: Tensor): void {
  if (scopes.length > 0) scopes[scopes.length - 1].add(t);
}

function collectTensors(value: unknown, out: Set<Tensor>, seen: Set<unknown>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (ArrayBuffer.isView(value)) return;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      collectTensors(k, out, seen);
      collectTensors(v, out, seen);
    }
    return;
  }
  for (const v of Array.isArray(value) ? value : value instanceof Set ? [...value] : Object.values(value)) collectTensors(v, out, seen);
}

function isTensor(v: object): v is Tensor {
  return typeof (v as Tensor).dispose === "function" && Array.isArray((v as Tensor).shape) && typeof (v as Tensor).dtype === "string";
}

/**
 * Runs `fn` and disposes every tensor created during it, except the tensors found in its
 * return value (a tensor, or arrays/objects/maps holding tensors), which move to the enclosing
 * scope. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`tidy: fn must be a function, received ${typeof fn}`);
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TypeError("tidy: fn must be synchronous (it returned a Promise); dispose tensors explicitly in async code");
  }
  const kept = new Set<Tensor>();
  collectTensors(result, kept, new Set());
  for (const t of scope) {
    if (kept.has(t)) {
      if (scopes.length > 0) scopes[scopes.length - 1].add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/** Exempts a tensor from the enclosing tidy() scopes so it outlives them. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}
