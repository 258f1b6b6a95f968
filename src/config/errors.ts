// Input errors that point at file:line:column and say what was expected.

export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** Bad input from the user: exit code 1, nothing touched. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly position?: SourcePosition,
  ) {
    super(position ? `${position.file}:${position.line}:${position.col}: ${message}` : message);
    this.name = 'ConfigError';
  }
}

/** Several input errors reported at once, each on its own line. */
export class ConfigErrors extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ConfigErrors';
  }
}
