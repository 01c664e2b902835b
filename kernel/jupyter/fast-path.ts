// The first cells of a session, run before the type checker is up (it takes ~1 s to load in its
// worker): the cell is parsed and transpiled without type checking, in the converter's model of
// a notebook (top-level declarations live in the shared `exports` object, earlier cells' names
// resolve through it), so that later, checked cells see its values. Once the checker is up the
// executor replays these cells through it to record their declarations and report type errors.
import type * as TS from "@tslab/typescript-for-tslab";
import { tslabTypeScript } from "./tslab";

export const LAST_EXPRESSION = "__bitnetLastExpression";

export interface FastCell {
  /** A script that runs the cell and evaluates to its promise. */
  js: string;
  /** Whether the cell ends with an expression (its value is exports[LAST_EXPRESSION]). */
  hasValue: boolean;
  /** The names the cell declares at top level. */
  names: string[];
}

const ts = tslabTypeScript;

function bindingNames(name: TS.BindingName, out: string[]): void {
  const t = ts();
  if (t.isIdentifier(name)) out.push(name.text);
  else for (const e of name.elements) if (!t.isOmittedExpression(e)) bindingNames(e.name, out);
}

const isDeclare = (s: TS.Statement): boolean => (TS_modifiers(s) ?? []).some((m) => m.kind === ts().SyntaxKind.DeclareKeyword);
function TS_modifiers(s: TS.Statement): readonly TS.ModifierLike[] | undefined {
  return (s as { modifiers?: readonly TS.ModifierLike[] }).modifiers;
}

/** Rewrites an import declaration as `const` bindings from `require` (returns null for type-only). */
function importAsRequire(s: TS.ImportDeclaration, names: string[]): string | null {
  const t = ts();
  const spec = (s.moduleSpecifier as TS.StringLiteral).text;
  const req = `__bitnetInterop(require(${JSON.stringify(spec)}))`;
  const clause = s.importClause;
  if (!clause) return `require(${JSON.stringify(spec)});`;
  if (clause.isTypeOnly) return null;
  const parts: string[] = [];
  if (clause.name) {
    names.push(clause.name.text);
    parts.push(`const ${clause.name.text} = ${req}.default;`);
  }
  const nb = clause.namedBindings;
  if (nb && t.isNamespaceImport(nb)) {
    names.push(nb.name.text);
    parts.push(`const ${nb.name.text} = ${req};`);
  } else if (nb && t.isNamedImports(nb)) {
    const fields = nb.elements
      .filter((e) => !e.isTypeOnly)
      .map((e) => {
        names.push(e.name.text);
        return e.propertyName ? `${e.propertyName.text}: ${e.name.text}` : e.name.text;
      });
    if (fields.length > 0) parts.push(`const { ${fields.join(", ")} } = ${req};`);
  }
  return parts.join(" ");
}

/** Transpiles a cell for the fast path; throws a SyntaxError for code that does not parse. */
export function transpileFast(code: string): FastCell {
  const t = ts();
  const sf = t.createSourceFile("cell.ts", code, t.ScriptTarget.ES2022, true, t.ScriptKind.TS);
  const parseErrors = (sf as unknown as { parseDiagnostics?: TS.Diagnostic[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0) {
    const d = parseErrors[0];
    const { line, character } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
    throw new SyntaxError(`${line + 1}:${character + 1} - ${t.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  const names: string[] = [];
  // Edits on the TypeScript source, applied back to front.
  const edits: { start: number; end: number; text: string }[] = [];
  let hasValue = false;
  sf.statements.forEach((s, i) => {
    if (isDeclare(s)) return;
    if (t.isImportDeclaration(s)) {
      edits.push({ start: s.getStart(sf), end: s.end, text: importAsRequire(s, names) ?? "" });
    } else if (t.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) bindingNames(d.name, names);
    } else if ((t.isFunctionDeclaration(s) || t.isClassDeclaration(s) || t.isEnumDeclaration(s)) && s.name) {
      names.push(s.name.text);
    } else if (i === sf.statements.length - 1 && t.isExpressionStatement(s)) {
      hasValue = true;
      edits.push({ start: s.getStart(sf), end: s.end, text: `exports.${LAST_EXPRESSION} = (${s.expression.getText(sf)});` });
    }
  });
  let src = code;
  for (const e of edits.sort((a, b) => b.start - a.start)) src = src.slice(0, e.start) + e.text + src.slice(e.end);
  const out = t.transpileModule(src, {
    compilerOptions: { target: t.ScriptTarget.ES2022, module: t.ModuleKind.CommonJS, noImplicitUseStrict: true, alwaysStrict: false, esModuleInterop: true, ignoreDeprecations: "5.0" } as TS.CompilerOptions,
    reportDiagnostics: false,
  }).outputText;
  // `with (exports)`: names of earlier cells resolve to their values; this cell's declarations
  // are copied into exports at the end, where the converter's cells will look for them.
  const exportsCode = [...new Set(names)].map((n) => `exports.${n} = ${n};`).join(" ");
  // Called inside the script, so that breakOnSigint also covers the cell's synchronous part.
  const js = `(async function (exports, require, __bitnetInterop) { with (exports) {\n${out}\n${exportsCode}\n} })(__bitnetLab__.exports, __bitnetLab__.require, __bitnetLab__.interop)`;
  return { js, hasValue, names: [...new Set(names)] };
}

/** What an `import` sees of a CommonJS or ES module (TypeScript's esModuleInterop rules). */
export function interop(m: unknown): unknown {
  if (m !== null && typeof m === "object" && (m as { __esModule?: boolean }).__esModule) return m;
  return m !== null && (typeof m === "object" || typeof m === "function") ? Object.assign(Object.create(null), m, { default: m }) : { default: m };
}
