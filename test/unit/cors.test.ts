import { describe, expect, it } from 'vitest';
import { corsResponseHeaders, preflightHeaders } from '../../src/platform/cors';
import { isWebOrigin } from '../../src/platform/origins';

describe('CORS decisions', () => {
  const listed = ['https://app.acme.example', 'http://localhost:5173'];

  it('allows exactly a listed origin, echoing it, never `*` and never credentials', () => {
    const headers = corsResponseHeaders('https://app.acme.example', listed);
    expect(headers['Access-Control-Allow-Origin']).toBe('https://app.acme.example');
    expect(headers).not.toHaveProperty('Access-Control-Allow-Credentials');
    expect(Object.values(preflightHeaders('http://localhost:5173', ['GET']))).not.toContain('*');
  });

  it('allows nothing for an unlisted, absent, look-alike or wildcard origin', () => {
    for (const origin of [
      undefined,
      'https://app.acme.example.evil',
      'https://APP.acme.example',
      '*',
      'null',
    ]) {
      expect(corsResponseHeaders(origin, listed), String(origin)).toEqual({});
    }
    expect(corsResponseHeaders('https://app.acme.example', [])).toEqual({});
  });

  it('takes only serialized https origins, or http on localhost', () => {
    for (const origin of [
      'https://app.acme.example',
      'https://app.acme.example:8443',
      'http://localhost:5173',
    ]) {
      expect(isWebOrigin(origin), origin).toBe(true);
    }
    for (const origin of [
      '*',
      'null',
      'http://app.acme.example',
      'https://app.acme.example/',
      'https://APP.acme.example',
      'https://a.example/x',
      '',
    ]) {
      expect(isWebOrigin(origin), origin).toBe(false);
    }
  });
});
