// --output json: one JSON document; what JSON.stringify leaves raw (DEL, C1, U+2028/2029) is escaped as \uXXXX too.

const RAW_IN_JSON = /[\x7f-\x9f\u2028\u2029]/g;

/** `value` as indented JSON that no terminal interprets and that parses back to the same strings. */
export function renderJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
