/**
 * An exact web origin (scheme, host, port; no path, no trailing slash), as browsers send it in
 * `Origin` and `clientDataJSON.origin`: https, or plain http for `localhost` during development.
 * `*` and `null` are not origins.
 */
export function isWebOrigin(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.origin !== value) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === 'localhost');
}
