// Interrupts for long-running async work (a notebook's "stop" button). Nothing here knows about
// Jupyter: the kernel calls interruptRunning(); loops that yield to the event loop, like
// Trainer.fit, register a handler while they run and end at their next safe point.

const handlers = new Set<() => void>();

/** Thrown by a loop that an interrupt ended (its state is consistent: it stopped at a safe point). */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InterruptedError";
  }
}

/**
 * Registers `handler` to run on the next interrupt; returns a function that removes it. A loop
 * registers for as long as it runs and makes the handler request a stop at its next safe point.
 */
export function onInterrupt(handler: () => void): () => void {
  if (typeof handler !== "function") throw new TypeError(`onInterrupt: handler must be a function, received ${typeof handler}`);
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
  };
}

/** Calls every registered interrupt handler (errors in one do not stop the others); returns how many ran. */
export function interruptRunning(): number {
  const now = [...handlers];
  for (const h of now) {
    try {
      h();
    } catch {
      // A failing handler must not keep the others from stopping.
    }
  }
  return now.length;
}
