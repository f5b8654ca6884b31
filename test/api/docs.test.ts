import { describe, expect, it } from 'vitest';
import { BASE, call } from '../helpers/http';

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}
type OpenApiDocument = { paths: Record<string, Record<string, Operation>> };

const BASE_PATH = new URL(BASE).pathname;

/** The `src`/`href` of every script and stylesheet the page loads. */
function referencedAssets(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"|<link rel="stylesheet" href="([^"]+)"/g)].map(
    (match) => match[1] ?? match[2] ?? '',
  );
}

describe('GET /docs', () => {
  it('serves the reference page, loading only same-origin files', async () => {
    const res = await call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/html/);
    expect(res.text).toContain(`data-openapi-url="${BASE_PATH}/openapi.json"`);

    const assets = referencedAssets(res.text);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) expect(asset.startsWith(`${BASE_PATH}/docs/assets/`), asset).toBe(true);
    expect(assets.some((asset) => asset.endsWith('.css'))).toBe(true);
    expect(assets.filter((asset) => asset.endsWith('.js')).length).toBeGreaterThanOrEqual(2);
    // No inline code: the CSP below forbids it.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(res.text).not.toMatch(/\sstyle=/);

    const csp = res.headers.get('Content-Security-Policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/https?:\/\//);
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
  });

  it('serves every file the page references, with its content type', async () => {
    const page = await call('GET', '/docs');
    for (const asset of referencedAssets(page.text)) {
      const res = await call('GET', asset.slice(BASE_PATH.length));
      expect(res.status, asset).toBe(200);
      const type = res.headers.get('Content-Type') ?? '';
      if (asset.endsWith('.js')) expect(type, asset).toMatch(/^application\/javascript/);
      else expect(type, asset).toMatch(/^text\/css/);
      expect(res.headers.get('Cache-Control'), asset).toMatch(/^public, max-age=\d+/);
      expect(res.text.length, asset).toBeGreaterThan(200);
    }
  });

  it('serves the Swagger UI bundle in full, cached for a year', async () => {
    const page = await call('GET', '/docs');
    const bundle = referencedAssets(page.text).find((asset) => /swagger-ui-bundle-[\d.]+\.js$/.test(asset));
    expect(bundle).toBeDefined();
    const res = await call('GET', (bundle ?? '').slice(BASE_PATH.length));
    expect(res.status).toBe(200);
    expect(res.text.length).toBeGreaterThan(500_000);
    expect(res.text).toContain('SwaggerUIBundle');
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers 404 problem+json for an unknown asset', async () => {
    for (const name of ['nope.js', 'swagger-ui-bundle-0.0.1.js', 'toString', '..%2Fwrangler.toml']) {
      const res = await call('GET', `/docs/assets/${name}`);
      expect(res.status, name).toBe(404);
      expect(res.headers.get('Content-Type'), name).toMatch(/^application\/problem\+json/);
      expect(res.body.code, name).toBe('not_found');
    }
  });

  it('is described by the OpenAPI document', async () => {
    const res = await call<OpenApiDocument>('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const page = res.body.paths[`${BASE_PATH}/docs`]?.get;
    const asset = res.body.paths[`${BASE_PATH}/docs/assets/{file}`]?.get;
    expect(page?.operationId).toBe('getApiReference');
    expect(asset?.operationId).toBe('getApiReferenceAsset');
    for (const operation of [page, asset]) {
      expect(operation?.tags).toEqual(['Discovery']);
      expect(operation?.security).toEqual([]);
    }
    expect(Object.keys(page?.responses['200']?.content ?? {})).toEqual(['text/html']);
    expect(Object.keys(asset?.responses['200']?.content ?? {}).sort()).toEqual([
      'application/javascript',
      'text/css',
    ]);
    expect(asset?.responses['404']).toBeDefined();
  });
});
