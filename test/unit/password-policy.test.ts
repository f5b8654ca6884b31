import { describe, expect, it } from 'vitest';
import { commonPasswords, passwordProblems } from '../../src/platform/auth/password-policy';

describe('the password policy', () => {
  it('bundles a list of more than 10,000 common passwords, built once', async () => {
    const list = await commonPasswords();
    expect(list.size).toBeGreaterThan(10_000);
    expect(await commonPasswords()).toBe(list);
  });

  it('refuses common passwords whatever their letter case', async () => {
    for (const password of ['password1234', 'Password1234', 'PASSWORD1234', '1q2w3E4R5T6Y']) {
      expect(await passwordProblems(password, 'ada@example.com'), password).toEqual([
        expect.stringMatching(/common/),
      ]);
    }
  });

  it('refuses the email and its local part, and accepts a long uncommon passphrase', async () => {
    expect(await passwordProblems('Ada.Lovelace@Example.com', 'ada.lovelace@example.com')).toEqual([
      'must not be the email address',
    ]);
    expect(await passwordProblems('ADA.LOVELACE', 'ada.lovelace@example.com')).toEqual([
      'must not be the email address',
    ]);
    expect(await passwordProblems('correct-horse-battery-staple', 'ada@example.com')).toEqual([]);
  });
});
