import { z } from '@hono/zod-openapi';
import countries from 'i18n-iso-countries';
import { isValidPhoneNumber } from 'libphonenumber-js/max';

/** Field schemas shared by several API sections, so each rule is written once. */

/** Normalised (trimmed, lower-cased) before it is checked, so uniqueness ignores case. */
export const EmailSchema = z
  .string()
  .max(320)
  .trim()
  .toLowerCase()
  .pipe(z.string().max(254).regex(z.regexes.email, 'must be a valid email address'))
  .openapi({
    description: 'Email address; compared case-insensitively.',
    example: 'ada.lovelace@example.com',
  });

/**
 * Staff and customers are separate email namespaces (one person may be both). Defaults to the
 * customers', the public one; it never falls back to the other, which would tell who is staff.
 */
export const AccountTypeSchema = z.enum(['CUSTOMER', 'STAFF']).default('CUSTOMER').openapi({
  description:
    'Which accounts `email` names: `CUSTOMER` (default) or `STAFF`. Staff and customers have separate email namespaces, so staff must send `STAFF`; nothing falls back from one to the other.',
  example: 'STAFF',
});

export const PhoneSchema = z
  .string()
  .max(16)
  .regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 number such as +447911123456')
  .refine((value) => isValidPhoneNumber(value), 'is not a valid phone number for its country')
  .openapi({ description: 'Phone number in E.164 format.', example: '+447911123456' });

export const CountrySchema = z
  .string()
  .length(2)
  .regex(/^[A-Z]{2}$/, 'must be an upper-case ISO 3166-1 alpha-2 code')
  .refine((value) => countries.isValid(value), 'is not an ISO 3166-1 alpha-2 country code')
  .openapi({ description: 'ISO 3166-1 alpha-2 country code.', example: 'GB' });

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}

export const DateSchema = z
  .string()
  .max(10)
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isCalendarDate, 'is not a calendar date')
  .openapi({ description: 'Calendar date, YYYY-MM-DD.', example: '1990-12-10' });

export const TimestampSchema = z
  .string()
  .max(30)
  .openapi({ description: 'ISO 8601 UTC timestamp.', example: '2026-11-25T12:00:00.000Z' });

export function text(max: number, description: string, example: string) {
  return z.string().trim().min(1, 'must not be empty').max(max).openapi({ description, example });
}

export const AddressSchema = z
  .object({
    line1: text(200, 'Street and number.', '12 St James’s Square'),
    line2: text(200, 'Flat, floor or building.', 'Flat 3').optional(),
    city: text(100, 'City or town.', 'London'),
    region: text(100, 'County, state or province.', 'Greater London').optional(),
    postalCode: text(20, 'Postal code.', 'SW1Y 4JH'),
    country: CountrySchema,
  })
  .strict()
  .openapi('Address');

/** Whole years between a date of birth and `today` (both YYYY-MM-DD, UTC). */
export function ageOn(dateOfBirth: string, today: Date): number {
  const [year, month, day] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const age = today.getUTCFullYear() - year;
  const beforeBirthday =
    today.getUTCMonth() + 1 < month || (today.getUTCMonth() + 1 === month && today.getUTCDate() < day);
  return beforeBirthday ? age - 1 : age;
}
