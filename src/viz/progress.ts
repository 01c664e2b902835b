// A progress bar that lives where the code runs: in a notebook it is one output updated in place
// (display + update_display_data through the display sink), on a terminal one line rewritten
// with a carriage return, and elsewhere (a pipe, a CI log, a test) silent.
import { randomUUID } from "node:crypto";
import { describe } from "../tensor/dtype";
import { DisplayHandle, MIME_BUNDLE, MimeBundle, MimeBundleProvider, display, hasDisplaySink } from "./display";
import { escapeHtml } from "./repr";

/** Options of a {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Units of work in all (> 0). */
  total: number;
  /** Text before the bar, e.g. "training". */
  label?: string;
  /** Least milliseconds between two redraws (default 200): a fast loop must not flood the notebook. */
  minIntervalMs?: number;
  /**
   * Where to draw: "auto" (default) is the notebook when a display sink is installed, the
   * terminal when stdout is a TTY, nowhere otherwise.
   */
  mode?: "auto" | "notebook" | "terminal" | "off";
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * A progress bar: `update(done, info)` as work advances, `close()` at the end. `info` fields
 * (loss, tokens/s...) are shown after the bar; `remainingSeconds` is shown as time left.
 */
export class ProgressBar implements MimeBundleProvider {
  readonly total: number;
  readonly label: string;
  readonly id = randomUUID();
  #done = 0;
  #info: Record<string, string | number> = {};
  #lastDraw = -Infinity;
  #handle: Promise<DisplayHandle> | null = null;
  #closed = false;
  readonly #minInterval: number;
  readonly #mode: "notebook" | "terminal" | "off";

  constructor(opts: ProgressBarOptions) {
    const fn = "ProgressBar";
    if (opts === null || typeof opts !== "object") throw new TypeError(`${fn}: options must be an object like { total }, received ${describe(opts)}`);
    if (typeof opts.total !== "number" || !Number.isFinite(opts.total) || opts.total <= 0) {
      throw new RangeError(`${fn}: total must be a finite number > 0, received ${describe(opts.total)}`);
    }
    const interval = opts.minIntervalMs ?? 200;
    if (typeof interval !== "number" || !(interval >= 0)) throw new RangeError(`${fn}: minIntervalMs must be a number >= 0, received ${describe(interval)}`);
    const mode = opts.mode ?? "auto";
    if (!["auto", "notebook", "terminal", "off"].includes(mode)) throw new RangeError(`${fn}: mode must be 'auto', 'notebook', 'terminal' or 'off', received ${describe(mode)}`);
    this.total = opts.total;
    this.label = opts.label ?? "";
    this.#minInterval = interval;
    this.#mode = mode === "auto" ? (hasDisplaySink() ? "notebook" : process.stdout.isTTY ? "terminal" : "off") : mode;
  }

  /** Units done so far. */
  get done(): number {
    return this.#done;
  }

  /** Sets the progress (clamped to [0, total]) and the fields shown after the bar; redraws at most every minIntervalMs. */
  update(done: number, info: Record<string, string | number> = {}): void {
    if (typeof done !== "number" || Number.isNaN(done)) throw new TypeError(`ProgressBar.update: done must be a number, received ${describe(done)}`);
    this.#done = Math.min(this.total, Math.max(0, done));
    this.#info = { ...info };
    const now = performance.now();
    if (now - this.#lastDraw >= this.#minInterval || this.#done === this.total) {
      this.#lastDraw = now;
      this.#draw();
    }
  }

  /** Draws the final state (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draw();
    if (this.#mode === "terminal") process.stdout.write("\n");
  }

  /** The bar as one line of text. */
  toString(): string {
    const width = 24;
    const frac = this.#done / this.total;
    const full = Math.round(frac * width);
    const bar = "█".repeat(full) + "░".repeat(width - full);
    const fields = Object.entries(this.#info)
      .filter(([k]) => k !== "remainingSeconds")
      .map(([k, v]) => `${k} ${typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v}`);
    const left = this.#info.remainingSeconds;
    if (typeof left === "number" && this.#done < this.total) fields.push(`${formatSeconds(left)} left`);
    const head = this.label ? `${this.label} ` : "";
    return `${head}${bar} ${(100 * frac).toFixed(0).padStart(3)}% ${this.#done}/${this.total}${fields.length ? "  " + fields.join(" · ") : ""}`;
  }

  [MIME_BUNDLE](): MimeBundle {
    const pct = (100 * this.#done) / this.total;
    const fields = escapeHtml(this.toString().split(`${this.#done}/${this.total}`)[1]?.trim() ?? "");
    const html =
      `<div style="font-family:monospace;display:flex;align-items:center;gap:8px">` +
      (this.label ? `<span>${escapeHtml(this.label)}</span>` : "") +
      `<progress value="${this.#done}" max="${this.total}" style="width:240px"></progress>` +
      `<span>${pct.toFixed(0)}% ${this.#done}/${this.total}</span><span>${fields}</span></div>`;
    return { "text/plain": this.toString(), "text/html": html };
  }

  #draw(): void {
    switch (this.#mode) {
      case "notebook": {
        // The state of now (display works asynchronously): the first draw creates the output,
        // the later ones replace it (one display id).
        const bundle = this[MIME_BUNDLE]();
        const snapshot = { [MIME_BUNDLE]: () => bundle };
        if (this.#handle === null) this.#handle = display(snapshot, { displayId: this.id });
        else void this.#handle.then((h) => h.update(snapshot)).catch(() => undefined);
        return;
      }
      case "terminal":
        process.stdout.write(`\r\x1b[2K${this.toString()}`);
        return;
      case "off":
        return;
    }
  }
}
