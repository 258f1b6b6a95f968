// The inventory's schema: defaults, groups and hosts, and how each host is reached.
import { z } from 'zod';
import { addressString, hostPortString } from './address.js';
import { identifierSchema, intLike, localPathString, nameString, secretRefSchema } from './fields.js';
import { hostNameString } from './host-names.js';

const hostKeyPolicySchema = z.enum(['strict', 'accept-new']);

export const consoleSchema = z.strictObject({
  tcp: hostPortString.optional(),
  command: z.string().min(1).optional(),
  pty: z.boolean().optional(),
  user: nameString('user').optional(),
  password: secretRefSchema.optional(),
  prompt_timeout: intLike(1, 600).optional(),
});

export const jumpSchema = z.strictObject({
  address: addressString,
  port: intLike(1, 65535).optional(),
  user: nameString('user').optional(),
  identity: localPathString.optional(),
  password: secretRefSchema.optional(),
});

export const fallbackSchema = z.strictObject({
  port: intLike(1, 65535).optional(),
  user: nameString('user').optional(),
  identity: localPathString.optional(),
  password: secretRefSchema.optional(),
  jump: jumpSchema.optional(),
});

/** Connection settings: allowed in defaults, in groups and on hosts. */
const settingsShape = {
  transport: z.enum(['ssh', 'local', 'exec']).optional(),
  /** With transport: exec, a local command that runs sh on the host with the script on stdin. */
  exec: z.string().min(1).optional(),
  user: nameString('user').optional(),
  port: intLike(1, 65535).optional(),
  identity: localPathString.optional(),
  passphrase: secretRefSchema.optional(),
  agent: z.boolean().optional(),
  password: secretRefSchema.optional(),
  known_hosts: localPathString.optional(),
  host_key_policy: hostKeyPolicySchema.optional(),
  become: z.union([z.literal('sudo'), z.literal(false)]).optional(),
  connect_timeout: intLike(1, 600).optional(),
  command_timeout: intLike(1, 86400).optional(),
  /** MiB one script may send back (stdout and stderr together). */
  max_output: intLike(1, 1024).optional(),
  console: consoleSchema.optional(),
  fallback: z.array(fallbackSchema).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
};

export const hostEntrySchema = z.strictObject({ address: addressString.optional(), ...settingsShape });
export const groupSchema = z.strictObject({ hosts: z.array(z.string().min(1)).optional(), ...settingsShape });

export const inventorySchema = z.strictObject({
  defaults: z.strictObject(settingsShape).optional(),
  groups: z.record(identifierSchema, groupSchema.nullable()).optional(),
  hosts: z.record(hostNameString, hostEntrySchema.nullable()),
});

export type HostSettings = z.infer<typeof hostEntrySchema>;
export type InventoryFile = z.infer<typeof inventorySchema>;
export type ConsoleSettings = z.infer<typeof consoleSchema>;
export type FallbackSettings = z.infer<typeof fallbackSchema>;
