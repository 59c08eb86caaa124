import fc from 'fast-check';

/** The subset of OpenAPI 3.0 schema the services' documents use. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  nullable?: boolean;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
}

export type Components = Record<string, Schema>;

export function resolve(schema: Schema, components: Components): Schema {
  let s = schema;
  for (let i = 0; s.$ref && i < 20; i++) s = components[s.$ref.replace('#/components/schemas/', '')] ?? {};
  return s;
}

/** Problems of `value` against `schema` (empty = valid). Unknown keywords are ignored. */
export function validate(value: unknown, schema: Schema, components: Components, path = '$', depth = 0): string[] {
  if (depth > 30) return [];
  const s = resolve(schema, components);
  if (value === null) return s.nullable || s.type === 'null' || s.type === undefined ? [] : [`${path}: null not allowed`];
  if (s.allOf) return s.allOf.flatMap((x) => validate(value, x, components, path, depth + 1));
  if (s.oneOf || s.anyOf) {
    const options = (s.oneOf ?? s.anyOf) as Schema[];
    return options.some((x) => validate(value, x, components, path, depth + 1).length === 0) ? [] : [`${path}: matches none of the alternatives`];
  }
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) return [`${path}: ${JSON.stringify(value)} not in enum`];
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 0) {
    const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  }
  const out: string[] = [];
  if (Array.isArray(value) && s.items) value.forEach((v, i) => out.push(...validate(v, s.items as Schema, components, `${path}[${i}]`, depth + 1)));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) out.push(`${path}.${r}: required`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in obj && obj[k] !== undefined) out.push(...validate(obj[k], sub, components, `${path}.${k}`, depth + 1));
  }
  return out;
}

const nasty = fc.constantFrom('', ' ', '..', '%00', '<script>', "' OR 1=1 --", '{"$gt":""}', '𝕏', '老人', 'null', '-1', '0', '9'.repeat(40), 'a'.repeat(300));

/** Mostly-plausible values for a schema, with a share of hostile ones mixed in. */
export function arbitraryFor(schema: Schema | undefined, components: Components, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 2 });
  const s = resolve(schema, components);
  const options: fc.Arbitrary<unknown>[] = [];
  if (s.enum) options.push(fc.constantFrom(...s.enum));
  else if (s.oneOf || s.anyOf) options.push(fc.oneof(...((s.oneOf ?? s.anyOf) as Schema[]).map((x) => arbitraryFor(x, components, depth + 1))));
  else if (s.allOf) options.push(arbitraryFor(Object.assign({}, ...s.allOf.map((x) => resolve(x, components))), components, depth + 1));
  else {
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    switch (type) {
      case 'string':
        options.push(s.format === 'date' ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)) : s.format === 'date-time' ? fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) : fc.string({ maxLength: s.maxLength ?? 40 }));
        break;
      case 'integer':
        options.push(fc.integer({ min: s.minimum ?? -1_000, max: s.maximum ?? 100_000 }));
        break;
      case 'number':
        options.push(fc.double({ noNaN: true, noDefaultInfinity: true, min: s.minimum ?? -1e6, max: s.maximum ?? 1e6 }));
        break;
      case 'boolean':
        options.push(fc.boolean());
        break;
      case 'array':
        options.push(fc.array(arbitraryFor(s.items, components, depth + 1), { maxLength: Math.min(s.maxItems ?? 5, 5) }));
        break;
      case 'object':
      default: {
        const props = Object.entries(s.properties ?? {});
        if (props.length === 0) {
          options.push(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }));
          break;
        }
        const required = new Set(s.required ?? []);
        options.push(
          fc.record(Object.fromEntries(props.map(([k, v]) => [k, arbitraryFor(v, components, depth + 1)])), {
            requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)),
          }),
        );
      }
    }
  }
  return fc.oneof({ arbitrary: options[0], weight: 4 }, { arbitrary: nasty, weight: 1 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
}
