/** The same certificate in the other forms clients send: CRLF, one line, bare base64, percent-encoded. */
export function pemForms(pem: string): {
  crlf: string;
  oneLine: string;
  bare: string;
  percentEncoded: string;
} {
  const lf = pem.replace(/\r\n/g, '\n').trim();
  const body = lf.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return {
    crlf: `${lf.replace(/\n/g, '\r\n')}\r\n`,
    oneLine: lf.replace(/\n/g, ' '),
    bare: body,
    percentEncoded: encodeURIComponent(`${lf}\n`),
  };
}
