// How the benchmark scripts read their options: `--name value`, or the fallback.

export function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

export function numberOption(name: string, fallback: number): number {
  return Number(option(name, String(fallback)));
}
