import { describe, expect, it } from 'vitest';
import { isValidLei } from '../../src/platform/lei';

describe('isValidLei (ISO 17442, ISO 7064 MOD 97-10)', () => {
  it('accepts LEIs published in GLEIF’s register', () => {
    for (const lei of [
      '5493001KJTIIGC8Y1R12', // Bloomberg Finance L.P.
      '7LTWFZYICNSX8D621K86', // Deutsche Bank AG
      'HWUPKR0MPOU8FGXBT394', // Apple Inc.
    ]) {
      expect(isValidLei(lei), lei).toBe(true);
    }
  });

  it('refuses a changed character, swapped check digits, a wrong length and lower case', () => {
    expect(isValidLei('5493001KJTIIGC8Y1R13')).toBe(false);
    expect(isValidLei('5493001KJTIIGC8Y2R12')).toBe(false);
    expect(isValidLei('5493001KJTIIGC8Y1R21')).toBe(false);
    expect(isValidLei('5493001KJTIIGC8Y1R1')).toBe(false);
    expect(isValidLei('5493001kjtiigc8y1r12')).toBe(false);
    expect(isValidLei('5493001KJTIIGC8Y1RAB')).toBe(false);
  });
});
