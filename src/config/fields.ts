// Zod field types shared by the inventory, the playbook and the modules.
import { z } from 'zod';

/** `{ env: NAME }` or `{ file: PATH }`: a secret that is never printed. */
export const secretRefSchema = z.union([z.strictObject({ env: z.string().min(1) }), z.strictObject({ file: z.string().min(1) })], {
  error: 'expected a secret reference: { env: NAME } or { file: PATH }',
});
export type SecretRef = z.infer<typeof secretRefSchema>;

/** A file mode as a quoted octal string. YAML reads an unquoted 0700 as the number 700. */
export const modeSchema = z
  .string({
    error: (issue) =>
      typeof issue.input === 'number'
        ? `expected a quoted octal string like "0700"; YAML read this as the number ${issue.input}: write "${String(issue.input).padStart(4, '0')}" in quotes`
        : 'expected a quoted octal string like "0700"',
  })
  .regex(/^0?[0-7]{3,4}$/, { error: 'expected an octal mode like "0700" (3 or 4 octal digits)' });

/** A whole number that may also arrive as a string after {{ var }} substitution. */
export function intLike(min: number, max: number) {
  return z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)], { error: `expected a whole number from ${min} to ${max}` }).pipe(
    z.number().int().min(min, { error: `expected a whole number from ${min} to ${max}` }).max(max, { error: `expected a whole number from ${min} to ${max}` }),
  );
}

/** A boolean that may also arrive as "yes"/"no"/"true"/"false" after substitution. */
export const boolLike = z.union([z.boolean(), z.enum(['yes', 'no', 'true', 'false']).transform((v) => v === 'yes' || v === 'true')], {
  error: 'expected true or false',
});

export const identifierSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: 'expected a name of letters, digits, "_", "-" and "."' });
