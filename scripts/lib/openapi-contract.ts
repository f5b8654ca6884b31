import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';
import addFormats from 'ajv-formats';
import { build } from 'esbuild';
import { buildOpenApiDocument } from './openapi-document.ts';
import { projectRoot } from './wrangler.ts';

/** OpenAPI members beside JSON Schema keywords: Ajv must not reject them in strict mode. */
const openApiKeywords = [
  'openapi',
  'info',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
  'jsonSchemaDialect',
  'example',
  'discriminator',
  'xml',
];

const DOCUMENT_ID = 'openapi.json';

const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** The request bodies whose schemas are compiled: what a JSON or form client sends (not uploads). */
const REQUEST_MEDIA_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded']);

/**
 * An ES module with the OpenAPI document and a compiled Ajv (draft 2020-12) validator for every
 * response schema in it, and for every JSON or form request body. Workerd forbids `new Function`, so Ajv cannot compile where the tests
 * run: it compiles here, in Node, to standalone code, and esbuild inlines the Ajv runtime helpers
 * and format checks it imports. vitest.config.ts serves it as `virtual:openapi-contract`, built from
 * the sources on every run, so it can never be stale.
 */
export async function openApiContractModule(): Promise<string> {
  const document = (await buildOpenApiDocument()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: { content?: Record<string, { schema?: unknown }> };
          responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
        }
      >
    >;
  };
  const ajv = new Ajv2020({
    code: { source: true, esm: true },
    strict: true,
    allErrors: true,
    inlineRefs: false,
  });
  addFormats(ajv);
  ajv.addVocabulary(openApiKeywords);
  ajv.addSchema(document, DOCUMENT_ID);

  // Most responses share a schema (every problem is `Problem`): one validator per distinct schema.
  const exportBySchema = new Map<string, string>();
  const exportByKey: Record<string, string> = {};
  const refs: Record<string, string> = {};
  /** The validator of the schema at `location` (a pointer into the document), under `key`. */
  const compile = (key: unknown[], schema: unknown, location: string) => {
    const text = JSON.stringify(schema);
    let name = exportBySchema.get(text);
    if (!name) {
      // Not `validate…`: Ajv names its internal functions so, and an export must not shadow one.
      name = `contractSchema${exportBySchema.size}`;
      exportBySchema.set(text, name);
      refs[name] = `${DOCUMENT_ID}#${location}`;
    }
    exportByKey[JSON.stringify(key)] = name;
  };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const at = `/paths/${pointer(path)}/${method}`;
      for (const [mediaType, content] of Object.entries(operation.requestBody?.content ?? {})) {
        if (content.schema && REQUEST_MEDIA_TYPES.has(mediaType)) {
          compile(
            ['request', method, path, mediaType],
            content.schema,
            `${at}/requestBody/content/${pointer(mediaType)}/schema`,
          );
        }
      }
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        for (const [mediaType, content] of Object.entries(response.content ?? {})) {
          if (!content.schema) continue;
          compile(
            ['response', method, path, status, mediaType],
            content.schema,
            `${at}/responses/${status}/content/${pointer(mediaType)}/schema`,
          );
        }
      }
    }
  }

  const entries = Object.entries(exportByKey).map(([key, name]) => `${JSON.stringify(key)}: ${name}`);
  const source = `${standaloneCode(ajv, refs)}
const validators = {${entries.join(',')}};
export function responseValidator(method, path, status, mediaType) {
  return validators[JSON.stringify(['response', method, path, status, mediaType])];
}
export function requestValidator(method, path, mediaType) {
  return validators[JSON.stringify(['request', method, path, mediaType])];
}
export const document = ${JSON.stringify(document)};
`;
  const bundled = await build({
    stdin: { contents: source, resolveDir: projectRoot, loader: 'js' },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'error',
  });
  return bundled.outputFiles[0]?.text ?? '';
}
