/**
 * fast-check arbitraries from the service's own OpenAPI 3.1 document (JSON Schema 2020-12): values that follow
 * a schema, and values that break it in the ways clients do — a wrong type in any field, a missing required
 * field, an unknown one, a string past its limit, a number out of range, JSON nested past the service's limit.
 */
import fc from 'fast-check';

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
};

export type Components = Record<string, JsonSchema>;

const INT32 = 2_147_483_647;

/** Resolves `#/components/schemas/X` references one level at a time. */
export function resolve(schema: JsonSchema, components: Components): JsonSchema {
  let s = schema;
  for (let i = 0; s.$ref && i < 10; i++) s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

/** A value that follows the schema (strings and arrays kept short: the point is the shapes, not the sizes). */
export function valid(schema: JsonSchema, components: Components, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  if (s.enum) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => valid(a, components, depth)));
  if (Array.isArray(s.type)) return fc.oneof(...s.type.map((type) => valid({ ...s, type }, components, depth)));
  switch (s.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Math.max(min, 0) + 1000);
      return fc.integer({ min, max });
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return validString(s);
    case 'array':
      return fc.array(s.items ? valid(s.items, components, depth + 1) : fc.jsonValue({ maxDepth: 2 }), {
        minLength: s.minItems ?? 0,
        maxLength: Math.min(s.maxItems ?? 4, 4),
      });
    case 'object':
    case undefined: {
      if (!s.properties)
        return depth > 2
          ? fc.constant({})
          : fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, prop] of Object.entries(s.properties)) record[key] = valid(prop, components, depth + 1);
      return fc.record(record, { requiredKeys: s.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(s: JsonSchema): fc.Arbitrary<string> {
  const maxLength = Math.min(s.maxLength ?? 40, 40);
  const minLength = Math.min(s.minLength ?? 0, maxLength);
  switch (s.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    case 'uri':
      return fc.webUrl({ validSchemes: ['https'] }).filter((u) => u.length <= (s.maxLength ?? 2048));
  }
  if (s.pattern)
    return fc
      .stringMatching(new RegExp(s.pattern))
      .filter((x) => x.length >= minLength && x.length <= (s.maxLength ?? Infinity));
  return fc.string({ minLength, maxLength, unit: 'grapheme' });
}

/** A value of any JSON type (strings with control characters, NUL and lone surrogates among them). */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', '\u0000', '\ud800', 'null', '-1', '1e309', ' ', '0x10', '<script>', "'; drop table x; --"),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1.5, 1e308),
);

/** JSON nested deeper than the service accepts (64 levels). */
export const tooDeep: fc.Arbitrary<unknown> = fc.integer({ min: 65, max: 2_000 }).map((n) => {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
});

/** A value that breaks the schema in one of the ways clients do, anywhere in the value (or a valid one). */
export function mutated(schema: JsonSchema, components: Components, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, components);
  const broken: fc.Arbitrary<unknown>[] = [anyJson];
  if (s.type === 'string' || (Array.isArray(s.type) && s.type.includes('string'))) {
    const limit = s.maxLength ?? 10_000;
    broken.push(fc.integer({ min: limit + 1, max: limit + 200 }).map((n) => 'x'.repeat(n)));
  }
  if (s.type === 'integer' || (Array.isArray(s.type) && s.type.includes('integer'))) {
    broken.push(fc.constantFrom(INT32 + 1, -INT32 - 2, 0, -1, 1.5, Number.MAX_SAFE_INTEGER));
  }
  if (s.properties && depth < 4) {
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [key, prop] of Object.entries(s.properties)) {
      record[key] = fc.oneof(
        { weight: 3, arbitrary: valid(prop, components, depth + 1) },
        {
          weight: 1,
          arbitrary: mutated(prop, components, depth + 1),
        },
      );
    }
    const fields = fc.record(record, { requiredKeys: [] }); // a required field may go missing
    broken.push(
      fields,
      fc
        .tuple(fields, fc.string({ minLength: 1, maxLength: 12 }), anyJson)
        .map(([o, k, v]) => ({ ...(o as object), [k]: v })),
      tooDeep.map((deep) => ({ platform_metadata: deep, contact_metadata: deep, settings: deep })),
    );
  }
  if (s.items && depth < 4) broken.push(fc.array(mutated(s.items, components, depth + 1), { maxLength: 3 }));
  return fc.oneof({ weight: 1, arbitrary: valid(s, components, depth) }, { weight: 2, arbitrary: fc.oneof(...broken) });
}

/** What a client may put in a path or query slot where an integer id or number belongs. */
export const badNumberText = fc.constantFrom(
  '0',
  '-1',
  '1e3',
  '0x10',
  '1.5',
  ' 1',
  '99999999999999999999',
  '2147483648',
  'abc',
  '%00',
  '１',
  'NaN',
);
