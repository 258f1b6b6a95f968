// Characters that no UTF-8 file can carry as they are (lone surrogates) or that XML 1.0 forbids (U+FFFE, U+FFFF), shown as escapes.

const UNPAIRED = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[\ufffe\uffff]/g;

/** `text` with each lone surrogate, U+FFFE and U+FFFF replaced by its `\uXXXX` escape: visible, where UTF-8 would write U+FFFD. */
export function escapeUnpaired(text: string): string {
  return text.replace(UNPAIRED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
