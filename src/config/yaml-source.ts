// YAML parsing with a line counter, and a map from value paths back to file:line:column.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError, ConfigErrors, type SourcePosition } from './errors.js';
import { checkDocument } from './yaml-limits.js';

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
    // Duplicate keys are found by checkDocument: the parser's own check compares every pair of keys in a map.
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
    const source = new YamlSource(file, doc, lines);
    // The parser only warns of tags it cannot resolve (!!js/function, !local): they are refused all the same.
    const syntax = [...doc.errors.map((e) => ({ e, what: 'invalid YAML' })), ...doc.warnings.map((e) => ({ e, what: 'unsupported YAML' }))].slice(0, MAX_REPORTED);
    const errors = syntax.map(({ e, what }) => new ConfigError(`${what}: ${firstLine(e.message).replace(/tag:yaml\.org,2002:/g, '!!')}`, source.offsetPosition(e.pos[0])));
    if (errors.length === 0) errors.push(...checkDocument(doc).slice(0, MAX_REPORTED).map((p) => new ConfigError(p.message, source.offsetPosition(p.offset))));
    if (errors.length > 0) throw new ConfigErrors(errors);
    return source;
  }

  /** Read and parse `file`: a regular file of at most `maxBytes`; a FIFO, a device or a directory is refused unopened. */
  static load(file: string, maxBytes: number): YamlSource {
    return YamlSource.fromText(file, readRegularFile(file, maxBytes));
  }

  /** The plain JavaScript value of the document (null for an empty file). Aliases were bounded by checkDocument. */
  value(): unknown {
    return this.doc.toJS({ maxAliasCount: -1 }) ?? null;
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

/** At most this many problems of one file are listed: the first ones say what is wrong. */
const MAX_REPORTED = 10;

/**
 * The text of a regular file no larger than `maxBytes`. Opened non-blocking, so that a FIFO (swapped in after any
 * check by name) cannot hang the open; the type and size are then checked on the open file itself.
 */
export function readRegularFile(file: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new ConfigError(`cannot read ${file}: expected a regular file, found ${fileKind(stat)}`);
    if (stat.size > maxBytes) throw new ConfigError(`cannot read ${file}: it is ${stat.size} bytes; expected at most ${maxBytes} (${maxBytes / 1048576} MiB)`);
    // One byte more than allowed, to notice a file that grew since fstat.
    const buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    let n = -1;
    while (n !== 0 && length < buffer.length) {
      n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
    }
    if (length > maxBytes) throw new ConfigError(`cannot read ${file}: it grew past ${maxBytes} bytes while being read`);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  } finally {
    closeSync(fd);
  }
}

function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
