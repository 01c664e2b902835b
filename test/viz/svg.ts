// Reading vega's SVG output in tests: every mark is a <g class="mark-<type> role-mark <name>_marks">
// whose children are the mark's items (one <path>, <line> or <text> each, role="graphics-symbol").
// A builder names its marks (Vega-Lite `name`), so tests find them by name.

/** The mark groups called `<name>_marks`: their vega mark type and their item elements. */
export function markGroups(svg: string, name: string): { type: string; items: string[] }[] {
  const out: { type: string; items: string[] }[] = [];
  const open = new RegExp(`<g class="mark-([a-z]+) role-mark ${name}_marks"[^>]*>`, "g");
  let m: RegExpExecArray | null;
  while ((m = open.exec(svg)) !== null) {
    // Items are leaf elements (no nested <g>), so the group ends at the next </g>.
    const body = svg.slice(m.index + m[0].length, svg.indexOf("</g>", m.index + m[0].length));
    const items = body.match(/<(path|line|text)\b[^>]*role="graphics-symbol"[^>]*>/g) ?? [];
    out.push({ type: m[1], items });
  }
  return out;
}

/** All items of the marks called `<name>_marks`, checking they have the vega mark type `type`. */
export function markItems(svg: string, name: string, type: string): string[] {
  const groups = markGroups(svg, name);
  if (groups.length === 0) throw new Error(`no mark '${name}_marks' in the SVG`);
  for (const g of groups) if (g.type !== type) throw new Error(`mark '${name}' is a ${g.type}, expected ${type}`);
  return groups.flatMap((g) => g.items);
}

/** Vertices of a line item's path (M x,y then L x,y ...). */
export function lineVertices(item: string): number {
  const d = /\sd="([^"]*)"/.exec(item);
  if (d === null) throw new Error(`no path data in ${item.slice(0, 80)}`);
  return (d[1].match(/[ML]/g) ?? []).length;
}

/** The aria-label of an item (vega writes "field: value; field: value"). */
export function ariaLabel(item: string): string {
  return /aria-label="([^"]*)"/.exec(item)?.[1] ?? "";
}
