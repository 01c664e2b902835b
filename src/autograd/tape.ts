// Reverse-mode autograd. Every differentiable op that sees an input requiring grad attaches a
// GradNode to its output (the tape is the graph of those nodes); backward() walks it from the
// root in reverse topological order. Gradients are f32 tensors; intermediate gradients are
// disposed as soon as they have been passed on, so a backward pass holds at most the live
// frontier of gradients, not all of them.
import { AutogradHooks, GradNode, Tensor, installAutogradHooks } from "../tensor/tensor";
import { keep } from "../tensor/scope";
import { describe } from "../tensor/dtype";
import * as native from "../backend/kernels";

let gradEnabled = true;

/** Whether ops currently record on the tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Turns recording on or off; returns the previous setting (for async code, where noGrad cannot wrap). */
export function setGradEnabled(enabled: boolean): boolean {
  if (typeof enabled !== "boolean") throw new TypeError(`setGradEnabled: enabled must be a boolean, received ${describe(enabled)}`);
  const before = gradEnabled;
  gradEnabled = enabled;
  return before;
}

/** Runs synchronous `fn` without recording on the tape (evaluation, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new TypeError(`noGrad: fn must be a function, received ${describe(fn)}`);
  const before = gradEnabled;
  gradEnabled = false;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError("noGrad: fn must be synchronous (it returned a Promise); use setGradEnabled(false) around async code");
    }
    return result;
  } finally {
    gradEnabled = before;
  }
}

/**
 * Attaches a tape node to `output` when recording is on and some input requires grad.
 * `backward` receives d(loss)/d(output) and returns one gradient per input (shaped like that
 * input, or null when the input needs none). It may return the gradient it was given (the
 * tape then hands it on instead of disposing it). Returns `output`.
 */
export function record<T extends Tensor>(
  op: string,
  output: T,
  inputs: readonly Tensor[],
  backward: (gradOutput: Tensor<"f32">) => (Tensor<"f32"> | null)[],
): T {
  if (!gradEnabled) return output;
  let any = false;
  for (const t of inputs) if (t.requiresGrad) any = true;
  if (!any) return output;
  output.requiresGrad = true;
  output.gradNode = { op, inputs, backward };
  return output;
}

/** Inputs of `root`'s graph in an order where every tensor comes after all tensors it feeds. */
function reverseTopological(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // Iterative DFS: deep models make recursion overflow the stack.
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradNode ? t.gradNode.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const next = inputs[i];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** a + b into a new contiguous f32 tensor (same shapes). */
function sum2(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  const ac = a.isContiguous() ? a : a.contiguous();
  const bc = b.isContiguous() ? b : b.contiguous();
  const out = Tensor.empty(a.shape, "f32", false, "backward");
  const o = out.data();
  const x = ac.data();
  const y = bc.data();
  // Large sums (residual streams) on the native kernel: the same float32 additions, threaded.
  if (o.length >= native.NATIVE_MIN_ELEMENTS) native.elementwise("add", x, y, o);
  else for (let i = 0; i < o.length; i++) o[i] = x[i] + y[i];
  if (ac !== a) ac.dispose();
  if (bc !== b) bc.dispose();
  return out;
}

/** a += b (same shapes; a contiguous). */
function addInto(a: Tensor<"f32">, b: Tensor<"f32">): void {
  const bc = b.isContiguous() ? b : b.contiguous();
  const x = a.data();
  const y = bc.data();
  if (x.length >= native.NATIVE_MIN_ELEMENTS) native.elementwise("add", x, y, x);
  else for (let i = 0; i < x.length; i++) x[i] += y[i];
  if (bc !== b) bc.dispose();
}

/** A contiguous gradient that owns all of its storage (a leaf's grad must not pin a bigger buffer). */
function ownedGradient(g: Tensor<"f32">): Tensor<"f32"> {
  const s = g.storage;
  if (g.isContiguous() && g.offset === 0 && s.byteLength === g.numel * 4 && s.references === 1) return g;
  const c = g.clone();
  g.dispose();
  return c;
}

// What a non-leaf's node becomes once a backward pass has used it: a second pass through it
// fails with a message instead of silently treating the tensor as a leaf.
const RELEASED: GradNode = {
  op: "released",
  inputs: [],
  backward() {
    throw new Error("backward: this part of the graph was already used by a backward pass; call backward(gradient, { retainGraph: true }) the first time to go through it twice");
  },
};

function runBackward(root: Tensor, gradient: Tensor<"f32"> | undefined, opts?: { retainGraph?: boolean }): void {
  if (!root.requiresGrad) {
    throw new Error("backward: this tensor does not require grad (no input of the ops that made it had requiresGrad, or it was computed under noGrad)");
  }
  let seed: Tensor<"f32">;
  if (gradient === undefined) {
    if (root.numel !== 1) {
      throw new RangeError(`backward: gradient must be given for a non-scalar tensor (shape [${root.shape.join(", ")}])`);
    }
    seed = Tensor.empty(root.shape, "f32", false, "backward");
    seed.data()[0] = 1;
  } else {
    if (!(gradient instanceof Tensor) || gradient.dtype !== "f32") {
      throw new TypeError(`backward: gradient must be an f32 Tensor, received ${describe(gradient)}`);
    }
    if (!sameShape(gradient.shape, root.shape)) {
      throw new RangeError(`backward: gradient must have the tensor's shape [${root.shape.join(", ")}], received [${gradient.shape.join(", ")}]`);
    }
    // The caller keeps its tensor: the tape works on its own reference.
    seed = gradient.detach() as Tensor<"f32">;
  }
  const order = reverseTopological(root);
  const pending = new Map<Tensor, Tensor<"f32">>([[root, seed]]);
  try {
    for (const t of order) {
      const g = pending.get(t);
      if (g === undefined) continue; // no path from the root carries a gradient here
      pending.delete(t);
      const node: GradNode | null = t.gradNode;
      if (node === null) {
        accumulateLeaf(t, g);
        continue;
      }
      const grads = node.backward(g);
      if (!Array.isArray(grads) || grads.length !== node.inputs.length) {
        throw new Error(`backward: op '${node.op}' returned ${Array.isArray(grads) ? grads.length : "no"} gradients for ${node.inputs.length} inputs`);
      }
      let handedOn = false;
      const seen = new Set<Tensor>();
      for (let i = 0; i < grads.length; i++) {
        let gi = grads[i];
        const input = node.inputs[i];
        if (gi === null || !input.requiresGrad) {
          if (gi !== null && gi !== g && !seen.has(gi)) gi.dispose();
          continue;
        }
        if (!sameShape(gi.shape, input.shape)) {
          throw new Error(`backward: op '${node.op}' produced a gradient of shape [${gi.shape.join(", ")}] for input ${i} of shape [${input.shape.join(", ")}]`);
        }
        // One tensor handed to two inputs would be disposed twice: the second gets a copy.
        if (seen.has(gi)) gi = gi.clone();
        seen.add(gi);
        const before = pending.get(input);
        if (before === undefined) {
          pending.set(input, gi);
          if (gi === g) handedOn = true;
        } else if (before.isContiguous() && before.storage.references === 1) {
          // The pending gradient is the tape's alone: add in place (no new residual-sized buffer).
          addInto(before, gi);
          if (gi !== g) gi.dispose();
        } else {
          pending.set(input, sum2(before, gi));
          before.dispose();
          if (gi !== g) gi.dispose();
        }
      }
      if (!handedOn) g.dispose();
      if (!opts?.retainGraph) t.gradNode = RELEASED;
    }
  } finally {
    for (const g of pending.values()) g.dispose();
  }
}

function accumulateLeaf(t: Tensor, g: Tensor<"f32">): void {
  if (t.grad === null || t.grad.disposed) {
    t.grad = keep(ownedGradient(g));
    return;
  }
  const acc = t.grad.data();
  const gc = g.isContiguous() ? g : g.contiguous();
  const x = gc.data();
  for (let i = 0; i < acc.length; i++) acc[i] += x[i];
  if (gc !== g) gc.dispose();
  g.dispose();
}

const hooks: AutogradHooks = {
  recordUnary(op, input, output, backward) {
    record(op, output, [input], (g) => [backward(g)]);
  },
  backward: runBackward,
};
installAutogradHooks(hooks);

/** Disposes and clears the gradients of `tensors` (before the next accumulation). */
export function zeroGrad(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    if (t.grad !== null) t.grad.dispose();
    t.grad = null;
  }
}
