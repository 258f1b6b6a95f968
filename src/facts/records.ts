// Fact output as key=value lines: the shared format every gather script prints.

/** Parse `key=value` lines; a repeated key keeps every value in order. */
export function parseRecords(text: string): Map<string, string[]> {
  const records = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    if (!/^[a-z][a-z0-9_.-]*$/.test(key)) continue;
    const list = records.get(key) ?? [];
    list.push(line.slice(eq + 1));
    records.set(key, list);
  }
  return records;
}

const parsed = new WeakMap<object, Map<string, string[]>>();

/**
 * The records of one or more facts' answers, merged in order (for one key, the first fact's values first). Each
 * answer is parsed once, however many checks read it: the maps returned are shared, and must not be changed.
 */
export function factRecords(...answers: { stdout: string }[]): Map<string, string[]> {
  const maps = answers.map((a) => {
    let records = parsed.get(a);
    if (!records) parsed.set(a, (records = parseRecords(a.stdout)));
    return records;
  });
  if (maps.length === 1) return maps[0]!;
  const merged = new Map<string, string[]>();
  for (const records of maps) for (const [key, values] of records) merged.set(key, [...(merged.get(key) ?? []), ...values]);
  return merged;
}

export function first(records: Map<string, string[]>, key: string): string | undefined {
  return records.get(key)?.[0];
}

/** The text printed as one `key=line` record per line (asRecords), or undefined when there was none. */
export function recordLines(records: Map<string, string[]>, key: string): string | undefined {
  const lines = records.get(key);
  return lines ? `${lines.join('\n')}\n` : undefined;
}
