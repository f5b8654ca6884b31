import fc from 'fast-check';
import { type OpenApiDocument, resolve, type Schema } from './openapi';

/*
 * Values for a JSON Schema (2020-12, as the OpenAPI 3.1 document writes it): valid ones, mostly valid
 * ones with a deviation somewhere in the tree, and the document's example. Covers the keywords the
 * document uses; anything else is generated as free JSON.
 */

/** Deeper than any schema of the document; stops a recursive one. */
const MAX_DEPTH = 8;
/** Valid strings stay short unless the schema asks for more; long ones come from the boundaries. */
const TYPICAL_LENGTH = 24;

/** Strings that have broken parsers, databases and templates before. */
const TRICKY_STRINGS = [
  '',
  ' ',
  "' OR '1'='1",
  '"; DROP TABLE customers; --',
  '%00',
  '\u0000',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally
  '${7*7}{{7*7}}',
  'null',
  'NaN',
  '-1',
  '1e309',
  '__proto__',
  '\ud800',
  '\udfff',
  '\u202e\u2066',
  '\ufeff',
  'İıßﬀ',
  '👩‍👩‍👧‍👦',
  'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗͔',
  '０１２',
];

const lowerAlphanumeric = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** Resolves `$ref` and merges `allOf` (the document uses it to extend an object with more members). */
export function flatten(document: OpenApiDocument, input: Schema): Schema {
  const schema = resolve<Schema>(document, input);
  if (!Array.isArray(schema.allOf)) return schema;
  const { allOf, ...merged } = schema;
  const properties: Record<string, unknown> = { ...(merged.properties as object) };
  const required = [...((merged.required as string[] | undefined) ?? [])];
  for (const member of (allOf as Schema[]).map((part) => flatten(document, part))) {
    Object.assign(merged, member);
    Object.assign(properties, member.properties);
    required.push(...((member.required as string[] | undefined) ?? []));
  }
  return { ...merged, properties, required };
}

function typesOf(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type as string[];
  if (typeof schema.type === 'string') return [schema.type];
  if (schema.properties) return ['object'];
  return [];
}

function exampleOfSchema(schema: Schema): unknown {
  if ('example' in schema) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  return undefined;
}

/**
 * A deterministic valid value: the schema's example, else one built from its members' examples.
 * What a client that read the documentation would send.
 */
export function exampleValue(document: OpenApiDocument, input: Schema, depth = 0): unknown {
  const schema = flatten(document, input);
  const example = exampleOfSchema(schema);
  if (example !== undefined) return example;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('default' in schema) return schema.default;
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches?.[0]) return exampleValue(document, branches[0], depth + 1);
  const type = typesOf(schema).find((candidate) => candidate !== 'null') ?? 'null';
  if (depth > MAX_DEPTH) return null;
  switch (type) {
    case 'object':
      return Object.fromEntries(
        Object.entries((schema.properties ?? {}) as Record<string, Schema>).map(([name, member]) => [
          name,
          exampleValue(document, member, depth + 1),
        ]),
      );
    case 'array':
      return schema.items ? [exampleValue(document, schema.items as Schema, depth + 1)] : [];
    case 'string':
      return schema.format === 'date-time'
        ? new Date(0).toISOString()
        : 'x'.repeat(num(schema.minLength) ?? 1);
    case 'integer':
    case 'number':
      return num(schema.minimum) ?? 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** fast-check cannot generate from every regular expression (lookarounds, back-references). */
function matching(pattern: string, example: unknown): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(new RegExp(pattern, 'u'));
  } catch {
    return fc.constant(typeof example === 'string' ? example : '');
  }
}

/** Strings in the schema's bounds; its example, and the example made unique, most often. */
function validString(schema: Schema): fc.Arbitrary<string> {
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = num(schema.maxLength) ?? 10_000;
  const fits = (value: string) =>
    [...value].length >= minLength &&
    [...value].length <= maxLength &&
    (typeof schema.pattern !== 'string' || new RegExp(schema.pattern, 'u').test(value));
  const typical = Math.min(maxLength, Math.max(minLength, TYPICAL_LENGTH));
  let generated: fc.Arbitrary<string>;
  switch (schema.format) {
    case 'date-time':
      generated = fc
        .date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true })
        .map((date) => date.toISOString());
      break;
    case 'date':
      generated = fc
        .date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true })
        .map((date) => date.toISOString().slice(0, 10));
      break;
    case 'email':
      generated = fc.emailAddress();
      break;
    case 'uuid':
      generated = fc.uuid();
      break;
    case 'binary':
      // A file: mostly a minimal PDF of its own (so valid uploads reach the success path and are
      // not all one duplicate), sometimes bytes of no known type.
      generated = fc.oneof(
        { weight: 3, arbitrary: fc.string({ maxLength: 64 }).map((tail) => `%PDF-1.4\n${tail}\n%%EOF\n`) },
        { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: typical }) },
      );
      break;
    case 'uri':
    case 'url':
      generated = fc.webUrl();
      break;
    default:
      generated =
        typeof schema.pattern === 'string'
          ? matching(schema.pattern, exampleOfSchema(schema))
          : fc.oneof(
              { weight: 4, arbitrary: fc.string({ minLength, maxLength: typical }) },
              { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: typical }) },
              // The boundaries themselves are valid, and where off-by-one bugs live.
              { weight: 1, arbitrary: fc.constant('a'.repeat(minLength)) },
              { weight: 1, arbitrary: fc.constant('b'.repeat(Math.min(maxLength, 100_000))) },
            );
  }
  const example = exampleOfSchema(schema);
  if (typeof example !== 'string') return generated.filter(fits);
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constant(example) },
      // Unique but still well-formed: `ada@example.com` → `k3ada@example.com`, `acme` → `x9acme`.
      {
        weight: 3,
        arbitrary: fc
          .string({ unit: lowerAlphanumeric, minLength: 1, maxLength: 8 })
          .map((prefix) => prefix + example),
      },
      { weight: 1, arbitrary: generated },
    )
    .filter(fits);
}

function validNumber(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const exclusiveMin = num(schema.exclusiveMinimum);
  const exclusiveMax = num(schema.exclusiveMaximum);
  const int32 = schema.format === 'int32';
  const min =
    num(schema.minimum) ?? (exclusiveMin !== undefined ? exclusiveMin + 1 : int32 ? -(2 ** 31) : undefined);
  const max =
    num(schema.maximum) ?? (exclusiveMax !== undefined ? exclusiveMax - 1 : int32 ? 2 ** 31 - 1 : undefined);
  const boundaries = [min, max].filter((value): value is number => value !== undefined);
  const generated = integer
    ? fc.integer({ min: min ?? Number.MIN_SAFE_INTEGER, max: max ?? Number.MAX_SAFE_INTEGER })
    : fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  return boundaries.length > 0 ? fc.oneof(generated, fc.constantFrom(...boundaries)) : generated;
}

/** A value of another JSON type than the schema allows, or one just outside its bounds. */
export function invalidValue(document: OpenApiDocument, input: Schema, depth = 0): fc.Arbitrary<unknown> {
  const schema = flatten(document, input);
  const types = typesOf(schema);
  const wrongType = fc
    .oneof(
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.constant(null),
      fc.constant([]),
      fc.constant({}),
    )
    .filter((value) => {
      const type =
        value === null
          ? 'null'
          : Array.isArray(value)
            ? 'array'
            : Number.isInteger(value)
              ? 'integer'
              : typeof value;
      return !types.includes(type) && !(type === 'integer' && types.includes('number'));
    });
  const options: fc.Arbitrary<unknown>[] = types.length > 0 ? [wrongType] : [];
  if (Array.isArray(schema.enum)) {
    options.push(
      fc.constantFrom(...(schema.enum as unknown[]).map((value) => `${String(value).toLowerCase()}_`)),
    );
  }
  if (types.includes('string')) {
    const maxLength = num(schema.maxLength);
    const minLength = num(schema.minLength);
    options.push(fc.constantFrom(...TRICKY_STRINGS));
    options.push(fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }));
    // Huge, but well within the 1 MB body limit: the field's own limit must catch it.
    options.push(fc.constantFrom(10_000, 100_000).map((length) => 'é'.repeat(length)));
    if (maxLength !== undefined) options.push(fc.constant('m'.repeat(maxLength + 1)));
    if (minLength) options.push(fc.constant('n'.repeat(minLength - 1)));
  }
  if (types.includes('integer') || types.includes('number')) {
    const outside = [num(schema.minimum), num(schema.maximum)]
      .map((bound, index) => (bound === undefined ? undefined : index === 0 ? bound - 1 : bound + 1))
      .filter((value): value is number => value !== undefined);
    options.push(fc.constantFrom(...outside, 2 ** 53 + 1, -(2 ** 31) - 1, 1e308, -0.5));
    if (types.includes('integer')) options.push(fc.constant(1.5));
  }
  if (types.includes('array')) {
    const maxItems = num(schema.maxItems);
    if (maxItems !== undefined && schema.items) {
      options.push(
        fc.array(value(document, schema.items as Schema, false, depth + 1), {
          minLength: maxItems + 1,
          maxLength: maxItems + 1,
        }),
      );
    }
  }
  if (types.includes('object') && schema.properties) {
    const required = (schema.required as string[] | undefined) ?? [];
    // The object branch alone: a nullable object's valid values include null, which has no members.
    const valid = validObject(document, schema, false, depth) as fc.Arbitrary<Record<string, unknown>>;
    if (required.length > 0) {
      options.push(
        fc.tuple(valid, fc.constantFrom(...required)).map(([object, missing]) => {
          const { [missing]: _, ...rest } = object;
          return rest;
        }),
      );
    }
    options.push(
      fc
        .tuple(
          valid,
          fc.constantFrom('unexpected', '__proto__', 'constructor', 'id', 'tenantId'),
          fc.jsonValue({ maxDepth: 1 }),
        )
        .map(([object, key, extra]) => ({ ...object, [key]: extra })),
    );
  }
  return options.length > 0 ? fc.oneof(...options) : fc.jsonValue({ maxDepth: 2 });
}

/**
 * Values for `schema`. `fuzzy`: each node is now and then replaced by an invalid value (wrong type,
 * out of bounds, missing or unexpected member, hostile string), so a request is mostly valid with a
 * fault somewhere inside.
 */
export function value(
  document: OpenApiDocument,
  input: Schema,
  fuzzy: boolean,
  depth = 0,
): fc.Arbitrary<unknown> {
  const schema = flatten(document, input);
  const valid = validValue(document, schema, fuzzy, depth);
  return fuzzy
    ? fc.oneof(
        { weight: 6, arbitrary: valid },
        { weight: 1, arbitrary: invalidValue(document, schema, depth) },
      )
    : valid;
}

function validValue(
  document: OpenApiDocument,
  schema: Schema,
  fuzzy: boolean,
  depth: number,
): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (branches) return fc.oneof(...branches.map((branch) => value(document, branch, fuzzy, depth + 1)));
  const types = typesOf(schema);
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case 'string':
          return validString(schema);
        case 'integer':
        case 'number':
          return validNumber(schema, type === 'integer');
        case 'boolean':
          return fc.boolean();
        case 'null':
          return fc.constant(null);
        case 'array': {
          const item = schema.items
            ? value(document, schema.items as Schema, fuzzy, depth + 1)
            : fc.jsonValue({ maxDepth: 1 });
          const minLength = num(schema.minItems) ?? 0;
          const maxLength = Math.max(minLength, Math.min(num(schema.maxItems) ?? 4, 4));
          const array = fc.array(item, { minLength, maxLength });
          return schema.uniqueItems
            ? array.map((items) => [...new Map(items.map((item) => [JSON.stringify(item), item])).values()])
            : array;
        }
        default:
          return validObject(document, schema, fuzzy, depth);
      }
    }),
  );
}

function validObject(
  document: OpenApiDocument,
  schema: Schema,
  fuzzy: boolean,
  depth: number,
): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const names = Object.keys(properties);
  const extra = schema.additionalProperties;
  if (names.length === 0 && extra && typeof extra === 'object') {
    return fc.dictionary(
      fc.string({ minLength: 1, maxLength: 16 }),
      value(document, extra as Schema, fuzzy, depth + 1),
      {
        maxKeys: 3,
      },
    );
  }
  return fc.record(
    Object.fromEntries(
      names.map((name) => [name, value(document, properties[name] as Schema, fuzzy, depth + 1)]),
    ),
    {
      requiredKeys: ((schema.required as string[] | undefined) ?? []).filter((name) => names.includes(name)),
    },
  );
}
