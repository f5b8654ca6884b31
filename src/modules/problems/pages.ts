/** The problem catalogue as HTML for people: plain markup, every value escaped. */

interface ProblemTypeView {
  type: string;
  code: string;
  status: number;
  title: string;
  description: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

/** Descriptions mark code with backticks, as in the OpenAPI document's Markdown. */
function prose(text: string): string {
  return escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · FinCore Customer API</title>
</head>
<body>
${body}
<hr>
<p><a href="/v2/customer/problems">All problem types</a> · <a href="/v2/customer/docs">API reference</a></p>
</body>
</html>
`;
}

export function problemTypePage(problem: ProblemTypeView): string {
  return page(
    problem.title,
    `<h1>${escapeHtml(problem.title)}</h1>
<dl>
<dt>Code</dt><dd><code>${escapeHtml(problem.code)}</code></dd>
<dt>HTTP status</dt><dd>${problem.status}</dd>
<dt>Type URI</dt><dd><code>${escapeHtml(problem.type)}</code></dd>
</dl>
<p>${prose(problem.description)}</p>
<p>Answers are <code>application/problem+json</code> (RFC 9457): branch on <code>code</code>; <code>detail</code> says what went wrong in that occurrence and <code>requestId</code> identifies the request.</p>`,
  );
}

export function problemIndexPage(problems: readonly ProblemTypeView[]): string {
  const rows = problems
    .map(
      (problem) =>
        `<tr><td>${problem.status}</td><td><a href="${escapeHtml(problem.type)}"><code>${escapeHtml(problem.code)}</code></a></td><td>${escapeHtml(problem.title)}</td><td>${prose(problem.description)}</td></tr>`,
    )
    .join('\n');
  return page(
    'Problem types',
    `<h1>Problem types</h1>
<p>Every error this API answers with is an RFC 9457 problem whose <code>type</code> links here. The same catalogue as JSON: <code>GET /v2/customer/problems</code> with <code>Accept: application/json</code>.</p>
<table>
<thead><tr><th>Status</th><th>Code</th><th>Title</th><th>When</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`,
  );
}
