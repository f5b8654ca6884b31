import { z } from '@hono/zod-openapi';
import swaggerUiPackage from 'swagger-ui-dist/package.json' with { type: 'json' };
import { ApiError } from '../../platform/errors';
import { createRouter, defineRoute } from '../../platform/openapi';
import { issuerFor } from '../../platform/pipeline';

/**
 * The API reference page: Swagger UI rendering /v2/customer/openapi.json, served entirely by this
 * worker (no CDN). The vendor files come from the `swagger-ui-dist` package, copied into the
 * Workers Static Assets directory by `npm install` (tools/copy-docs-assets.mjs) and read through
 * the ASSETS binding; `run_worker_first` keeps them from being served around these routes.
 */

const publicAccess = { auth: 'none', tenant: false } as const;

const DOCS_PATH = '/v2/customer/docs';
const ASSETS_PATH = `${DOCS_PATH}/assets`;
const OPENAPI_PATH = '/v2/customer/openapi.json';
const SWAGGER_UI_VERSION = swaggerUiPackage.version;

const JS = 'application/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Unversioned responses (the page, its init script) change with a deploy: cache briefly. */
const SHORT = 'public, max-age=300';

/**
 * Starts Swagger UI. A served file rather than an inline script, so the page's CSP needs no
 * `'unsafe-inline'`; the document URL comes from the page. `queryConfigEnabled` stays off, so a
 * crafted `?url=` cannot make the page render a foreign document.
 *
 * The page renders its own copy of the document, changed only where Swagger UI's "Try it out"
 * would otherwise fail a first call:
 * - `X-Tenant-ID` becomes an apiKey scheme of the Authorize dialog (asked once, kept with the
 *   tokens by `persistAuthorization`) instead of a required field on every operation;
 * - optional parameters lose their `example`, which Swagger UI would send as a value (an example
 *   `cursor` is refused, an example filter hides every row): it is shown in the description.
 * The client-credentials scheme of the document gives the dialog its token form.
 */
const INIT_SCRIPT = `'use strict';
(function () {
  var root = document.getElementById('swagger-ui');
  var TENANT_SCHEME = 'tenant';
  var TENANT_PARAMETER = '#/components/parameters/TenantId';

  function exampleIntoDescription(parameter) {
    var example = parameter.example !== undefined ? parameter.example : parameter.schema && parameter.schema.example;
    delete parameter.example;
    if (parameter.schema) delete parameter.schema.example;
    if (example === undefined) return;
    var shown = typeof example === 'string' ? example : JSON.stringify(example);
    parameter.description = (parameter.description || '') + ' Example: \`' + shown + '\`.';
  }

  function forThisPage(doc) {
    doc.components.securitySchemes[TENANT_SCHEME] = {
      type: 'apiKey',
      in: 'header',
      name: 'X-Tenant-ID',
      description: 'The tenant every tenant-scoped call is for (sent as X-Tenant-ID), e.g. demo-pro.',
    };
    Object.keys(doc.paths).forEach(function (path) {
      var item = doc.paths[path];
      Object.keys(item).forEach(function (method) {
        var operation = item[method];
        if (!operation || !Array.isArray(operation.parameters)) return;
        var scoped = false;
        operation.parameters = operation.parameters.filter(function (parameter) {
          if (parameter.$ref === TENANT_PARAMETER) scoped = true;
          return parameter.$ref !== TENANT_PARAMETER;
        });
        operation.parameters.forEach(function (parameter) {
          if (!parameter.$ref && !parameter.required) exampleIntoDescription(parameter);
        });
        if (!scoped) return;
        var requirements = operation.security && operation.security.length ? operation.security : [{}];
        operation.security = requirements.map(function (requirement) {
          var withTenant = {};
          withTenant[TENANT_SCHEME] = [];
          return Object.assign(withTenant, requirement);
        });
      });
    });
    return doc;
  }

  fetch(root.getAttribute('data-openapi-url'), { headers: { Accept: 'application/json' } })
    .then(function (response) {
      if (!response.ok) throw new Error('the OpenAPI document answered ' + response.status);
      return response.json();
    })
    .then(function (doc) {
      window.ui = SwaggerUIBundle({
        spec: forThisPage(doc),
        domNode: root,
        deepLinking: true,
        validatorUrl: null,
        queryConfigEnabled: false,
        tryItOutEnabled: true,
        persistAuthorization: true,
        displayRequestDuration: true,
        defaultModelsExpandDepth: 0,
        presets: [SwaggerUIBundle.presets.apis],
        layout: 'BaseLayout',
      });
    })
    .catch(function (error) {
      root.textContent = 'The reference could not load the OpenAPI document: ' + error.message;
    });
})();
`;

/** The files the page loads, by the name in their URL; vendor names carry the package version. */
const ASSETS: Record<
  string,
  { contentType: string; cacheControl: string } & ({ path: string } | { body: string })
> = {
  [`swagger-ui-bundle-${SWAGGER_UI_VERSION}.js`]: {
    contentType: JS,
    cacheControl: IMMUTABLE,
    path: `/swagger-ui/${SWAGGER_UI_VERSION}/swagger-ui-bundle.js`,
  },
  [`swagger-ui-${SWAGGER_UI_VERSION}.css`]: {
    contentType: CSS,
    cacheControl: IMMUTABLE,
    path: `/swagger-ui/${SWAGGER_UI_VERSION}/swagger-ui.css`,
  },
  'docs-init.js': { contentType: JS, cacheControl: SHORT, body: INIT_SCRIPT },
};

const assetUrl = (name: string) => `${ASSETS_PATH}/${name}`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>FinCore Customer API reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl(`swagger-ui-${SWAGGER_UI_VERSION}.css`)}">
<script defer src="${assetUrl(`swagger-ui-bundle-${SWAGGER_UI_VERSION}.js`)}"></script>
<script defer src="${assetUrl('docs-init.js')}"></script>
</head>
<body>
<noscript>The reference needs JavaScript. The OpenAPI document itself is at <a href="${OPENAPI_PATH}">${OPENAPI_PATH}</a>.</noscript>
<div id="swagger-ui" data-openapi-url="${OPENAPI_PATH}"></div>
</body>
</html>
`;

/**
 * Same-origin scripts and styles only, no inline code. `connect-src` also allows the API origin
 * when PUBLIC_BASE_URL puts it elsewhere, for "Try it out".
 */
function contentSecurityPolicy(pageOrigin: string, apiOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${apiOrigin === pageOrigin ? '' : ` ${apiOrigin}`}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const header = (description: string) => ({
  description,
  schema: { type: 'string' as const, maxLength: 1024 },
});

const securityHeaders = {
  'Content-Security-Policy': header('Scripts and styles from this origin only; no inline code.'),
  'Cache-Control': header('`public, max-age=300`.'),
  'X-Content-Type-Options': header('`nosniff`.'),
};

const assetHeaders = {
  'Cache-Control': header(
    'Versioned vendor files: `public, max-age=31536000, immutable`; `docs-init.js`: `public, max-age=300`.',
  ),
  'X-Content-Type-Options': header('`nosniff`.'),
};

const HtmlSchema = z
  .string()
  .max(10_000)
  .openapi({ description: 'The HTML page that loads the reference.', example: '<!doctype html>…' });

const JavaScriptSchema = z
  .string()
  .max(10_000_000)
  .openapi({ description: 'JavaScript source.', example: "'use strict';…" });

const CssSchema = z
  .string()
  .max(2_000_000)
  .openapi({ description: 'Stylesheet.', example: '.swagger-ui{…}' });

export function docsRoutes() {
  const router = createRouter();

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/docs',
      operationId: 'getApiReference',
      summary: 'API reference (HTML)',
      description: `Renders this OpenAPI document in the browser with Swagger UI ${SWAGGER_UI_VERSION}, served by this worker: no external resources are loaded.`,
      tags: ['Discovery'],
      access: publicAccess,
      responses: {
        200: {
          description: 'The reference page.',
          headers: securityHeaders,
          content: { 'text/html': { schema: HtmlSchema } },
        },
      },
    }),
    (c) => {
      const apiOrigin = new URL(issuerFor(c.env, c.req.url)).origin;
      c.header('Content-Type', 'text/html; charset=utf-8');
      c.header('Content-Security-Policy', contentSecurityPolicy(new URL(c.req.url).origin, apiOrigin));
      c.header('Cache-Control', SHORT);
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('Referrer-Policy', 'no-referrer');
      return c.body(PAGE, 200);
    },
  );

  router.openapi(
    defineRoute({
      method: 'get',
      path: '/docs/assets/{file}',
      operationId: 'getApiReferenceAsset',
      summary: 'API reference script or stylesheet',
      description: `A file the reference page loads. Vendor file names carry the Swagger UI version and are cached for a year; any other name answers \`not_found\`. Current names: ${Object.keys(
        ASSETS,
      )
        .map((name) => `\`${name}\``)
        .join(', ')}.`,
      tags: ['Discovery'],
      access: publicAccess,
      request: {
        params: z.object({
          file: z
            .string()
            .max(100)
            .openapi({
              description: 'File name, as referenced by the reference page.',
              example: `swagger-ui-bundle-${SWAGGER_UI_VERSION}.js`,
            }),
        }),
      },
      responses: {
        200: {
          description: 'The file.',
          headers: assetHeaders,
          content: {
            'application/javascript': { schema: JavaScriptSchema },
            'text/css': { schema: CssSchema },
          },
        },
      },
    }),
    async (c) => {
      const { file } = c.req.valid('param');
      const asset = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
      if (!asset) throw new ApiError('not_found', { detail: `No reference asset '${file}'.` });
      c.header('Content-Type', asset.contentType);
      c.header('Cache-Control', asset.cacheControl);
      c.header('X-Content-Type-Options', 'nosniff');
      if ('body' in asset) return c.body(asset.body, 200);
      const stored = await c.env.ASSETS.fetch(new Request(`https://assets.invalid${asset.path}`));
      // The name is known, so a miss means the asset directory was not built: a deployment fault.
      if (!stored.ok || !stored.body) {
        throw new Error(
          `Static asset ${asset.path} answered ${stored.status}; run \`npm install\` (postinstall copies it).`,
        );
      }
      return c.body(stored.body, 200);
    },
  );

  return router;
}
