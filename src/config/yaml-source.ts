// YAML parsing with a line counter, and a map from value paths back to file:line:column.
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, ConfigErrors, type SourcePosition } from './errors.js';

export type ValuePath = readonly (string | number)[];

/** A parsed YAML file that can say where any of its values came from. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static fromText(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const source = new YamlSource(file, doc, lines);
    const errors = doc.errors.map((e) => new ConfigError(`invalid YAML: ${firstLine(e.message)}`, source.offsetPosition(e.pos[0])));
    if (errors.length > 0) throw new ConfigErrors(errors);
    return source;
  }

  static load(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return YamlSource.fromText(file, text);
  }

  /** The plain JavaScript value of the document (null for an empty file). */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 }) ?? null;
  }

  offsetPosition(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /** Position of the value at `path`; `key: true` points at the key instead. Falls back to the nearest ancestor. */
  position(path: ValuePath, opts: { key?: boolean } = {}): SourcePosition {
    let node: unknown = this.doc.contents;
    let best: Node | undefined = node as Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        if (opts.key && i === path.length - 1 && isScalar(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
      } else {
        break;
      }
      if (node && typeof node === 'object' && 'range' in node) best = node as Node;
    }
    const offset = best?.range?.[0] ?? 0;
    return this.offsetPosition(offset);
  }

  error(path: ValuePath, message: string, opts: { key?: boolean } = {}): ConfigError {
    return new ConfigError(message, this.position(path, opts));
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
