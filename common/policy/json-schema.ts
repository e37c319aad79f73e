import { z } from 'zod';
import { PolicyFile } from './schema.ts';

export const SCHEMA_FILE_NAME = 'policy.schema.json';

/**
 * The JSON Schema editors use for one file in policies/: the input side of PolicyFile (human
 * units as strings, defaults optional), generated so it cannot drift from the zod schema.
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyFile, { io: 'input', target: 'draft-2020-12' });
  return {
    ...schema,
    $id: 'https://spillway.invalid/policy.schema.json',
    title: 'Spillway policy file',
    description:
      'One file of a Spillway policy directory. Files merge in file-name order: maps merge, lists replace.',
  };
}

/** The committed file's exact text (stable key order, trailing newline). */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
