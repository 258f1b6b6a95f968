// JSON Schema (draft-07) of the inventory and the playbook, for yaml-language-server and other editors.
import { z } from 'zod';
import { identifierSchema } from './fields.js';
import { inventorySchema } from './inventory-schema.js';

type JsonSchema = Record<string, unknown>;

function toJson(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

export function inventoryJsonSchema(): JsonSchema {
  return { title: 'fleetfix inventory', ...toJson(inventorySchema) };
}

/** The playbook schema with every module's parameters; each step names exactly one module. */
export function playbookJsonSchema(modules: ReadonlyMap<string, { params: z.ZodType; summary: string }>): JsonSchema {
  const moduleKeys = Object.fromEntries([...modules].map(([name, m]) => [name, m.params.optional().describe(m.summary)]));
  const base = { id: identifierSchema, title: z.string().optional(), when: z.union([z.string(), z.boolean()]).optional(), ...moduleKeys };
  const check = z.strictObject({ ...base, notify: z.union([identifierSchema, z.array(identifierSchema)]).optional() });
  const handler = z.strictObject(base);
  const playbook = z.strictObject({
    name: z.string(),
    description: z.string().optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    checks: z.array(check).min(1),
    handlers: z.array(handler).optional(),
  });
  const json = { title: 'fleetfix playbook', ...toJson(playbook) } as unknown as JsonSchema & { properties: Record<string, { items: JsonSchema }> };
  const oneModule = [...modules.keys()].map((name) => ({ required: [name] }));
  json.properties.checks!.items.oneOf = oneModule;
  json.properties.handlers!.items.oneOf = oneModule;
  return json;
}
