// Argument validation for the whole library: one `describe`, one argument order (fn, arg,
// value, ...) and errors that carry the function and argument they concern, so a caller that
// re-raises an error under its own name changes a field, not the text through a regex.

/** A short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `'${value.length > 40 ? value.slice(0, 40) + "..." : value}'`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (typeof value === "function") return "a function";
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? withArticle(name) : "an object";
}

/** "a Float32Array", "an Int32Array": the indefinite article a word takes (by its first letter). */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? "an" : "a"} ${word}`;
}

/** What an argument error carries besides its message (the addon sets the same fields). */
export interface ArgumentErrorFields {
  /** The function whose argument was bad, as the message begins. */
  fn: string;
  /** The argument's name. */
  arg: string;
}

/** A TypeError or RangeError whose message starts with `fn: ` and which carries fn and arg. */
export function argumentError<E extends Error>(Ctor: new (message: string) => E, fn: string, arg: string, message: string): E & ArgumentErrorFields {
  return Object.assign(new Ctor(`${fn}: ${message}`), { fn, arg });
}

/**
 * Re-raises an argument error under the public function `fn` that was called (a kernel or helper
 * below it threw): the message's leading function name and the `fn` field change; other errors
 * pass through unchanged.
 */
export function renameFunction(e: unknown, fn: string): unknown {
  if (!(e instanceof Error)) return e;
  const from = (e as Partial<ArgumentErrorFields>).fn;
  if (typeof from !== "string" || !e.message.startsWith(`${from}: `)) return e;
  e.message = `${fn}${e.message.slice(from.length)}`;
  (e as Partial<ArgumentErrorFields>).fn = fn;
  return e;
}

/** `value` must be an integer >= min (and <= max); `what` says so in words for the message. */
export function checkInteger(fn: string, arg: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER, what?: string): number {
  const expected = what ?? (max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`);
  if (typeof value !== "number") throw argumentError(TypeError, fn, arg, `${arg} must be ${expected}, received ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw argumentError(RangeError, fn, arg, `${arg} must be ${expected}, received ${describe(value)}`);
  return value;
}

/** `value` must be an integer >= 1. */
export function checkPositiveInteger(fn: string, arg: string, value: unknown): number {
  return checkInteger(fn, arg, value, 1, Number.MAX_SAFE_INTEGER, "a positive integer");
}

/**
 * `value` must be a number for which `ok` holds (finite, by default); `expected` words it for the
 * message.
 */
export function checkNumber(fn: string, arg: string, value: unknown, expected = "a finite number", ok: (v: number) => boolean = Number.isFinite): number {
  if (typeof value !== "number") throw argumentError(TypeError, fn, arg, `${arg} must be ${expected}, received ${describe(value)}`);
  if (!ok(value)) throw argumentError(RangeError, fn, arg, `${arg} must be ${expected}, received ${describe(value)}`);
  return value;
}

/** `value` must be a boolean. */
export function checkBoolean(fn: string, arg: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw argumentError(TypeError, fn, arg, `${arg} must be a boolean, received ${describe(value)}`);
  return value;
}

/** `value` must be one of `choices` (strings). */
export function checkChoice<T extends string>(fn: string, arg: string, value: unknown, choices: readonly T[]): T {
  const quoted = choices.map((c) => `'${c}'`);
  const list = quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
  if (typeof value !== "string") throw argumentError(TypeError, fn, arg, `${arg} must be ${list}, received ${describe(value)}`);
  if (!(choices as readonly string[]).includes(value)) throw argumentError(RangeError, fn, arg, `${arg} must be ${list}, received ${describe(value)}`);
  return value as T;
}

/**
 * `value` must be a plain options object (undefined allowed when `optional`); `expected` words
 * it, e.g. "an object with at least lr".
 */
export function checkOptions(fn: string, arg: string, value: unknown, expected = "an object", optional = false): Record<string, unknown> {
  if (optional && value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw argumentError(TypeError, fn, arg, `${arg} must be ${expected}, received ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}
