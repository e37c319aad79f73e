import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/** A parsed policy file kept with what is needed to turn a node offset into line:column. */
export interface ParsedFile {
  path: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Place {
  file: string;
  line: number;
  column: number;
}

type PathKey = string | number;

function child(node: unknown, key: PathKey): { value: Node | null; keyNode: Node | null } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
    if (!pair) return undefined;
    return { value: (pair.value as Node | null) ?? null, keyNode: pair.key as Node };
  }
  if (isSeq(node) && typeof key === 'number') {
    const item = node.items[key] as Node | undefined;
    return item === undefined ? undefined : { value: item, keyNode: null };
  }
  return undefined;
}

/**
 * How far `path` reaches into one file: the depth matched and the node to point at. A missing key
 * points at its parent; `atKey` points at the key itself (for an unknown or misnamed key).
 */
function walk(file: ParsedFile, path: PathKey[], atKey: boolean): { depth: number; node: Node | null } {
  let node: Node | null = file.doc.contents as Node | null;
  let pointAt: Node | null = node;
  for (let depth = 0; depth < path.length; depth++) {
    const next = child(node, path[depth]);
    if (!next) return { depth, node: pointAt };
    const last = depth === path.length - 1;
    pointAt = (last && atKey ? next.keyNode : null) ?? next.value ?? next.keyNode ?? pointAt;
    node = next.value;
  }
  return { depth: path.length, node: pointAt };
}

/**
 * Finds where a value of the merged policy came from. Maps merge and lists replace, so the value at
 * a path is the one in the last file that has that path; a missing value is blamed on the last
 * file that reaches deepest towards it.
 */
export function locate(files: ParsedFile[], path: PathKey[], atKey = false): Place | undefined {
  let best: { file: ParsedFile; depth: number; node: Node | null } | undefined;
  for (let i = files.length - 1; i >= 0; i--) {
    const found = walk(files[i], path, atKey);
    if (!best || found.depth > best.depth) best = { file: files[i], ...found };
    if (found.depth === path.length) break;
  }
  if (!best) return undefined;
  const offset = best.node?.range?.[0] ?? 0;
  const pos = best.file.lines.linePos(offset);
  return { file: best.file.path, line: pos.line, column: pos.col };
}
