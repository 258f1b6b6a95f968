// Counting what a terminal would act on in output: shared by the unit and end-to-end tests of escaped host text.

/** Bytes a terminal would act on: C0 but the newline, DEL, C1 (UTF-8 C2 80..9F), U+2028/2029 (E2 80 A8/A9). */
export function rawControlBytes(text: string): number {
  const b = Buffer.from(text, 'utf8');
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    if ((b[i]! < 0x20 && b[i] !== 0x0a) || b[i] === 0x7f) n++;
    else if (b[i] === 0xc2 && b[i + 1]! >= 0x80 && b[i + 1]! <= 0x9f) n++;
    else if (b[i] === 0xe2 && b[i + 1] === 0x80 && (b[i + 2] === 0xa8 || b[i + 2] === 0xa9)) n++;
  }
  return n;
}
