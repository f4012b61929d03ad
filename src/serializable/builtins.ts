// Wire forms of the built-in tags that are not plain containers: datetime text, bigint as decimal
// text, non-finite numbers and Python Gaw's uuid (bytes are in bytes.ts). Pure conversions that
// return undefined for malformed input; the decode walker turns that into an error naming tag and path.

/** Longest bigint accepted on decode, in decimal digits (parsing cost grows with the length). */
export const maxBigintDigits = 10_000;

const datetimePattern =
  /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const maxTimeMs = 8.64e15;

function daysIn(year: number, month: number): number {
  if (month !== 2) return monthDays[month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/**
 * Parses ISO-8601 date-time text into epoch milliseconds, or undefined. Accepts what
 * `Date#toISOString` writes (including six-digit years) and what Python's `str(datetime)` /
 * `isoformat()` write: a space or `T` separator, up to nine fraction digits (kept to the
 * millisecond, truncated), an optional `Z` / `+HH:MM` / `+HHMM` / `+HH` offset. Text without an
 * offset is read as UTC, so the result never depends on the machine's time zone; a bare date is
 * midnight UTC.
 */
export function parseDatetime(text: string): number | undefined {
  if (text.length > 40) return undefined;
  const m = datetimePattern.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  if (m[1] === '-000000' || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0-99 to 1900-1999
  const time = date.setUTCHours(hour, minute, second, ms) - offsetMinutes * 60_000;
  return Number.isFinite(time) && Math.abs(time) <= maxTimeMs ? time : undefined;
}

const bigintPattern = /^-?[0-9]+$/;

/** Decimal text (an optional `-` and digits, at most maxBigintDigits) to a bigint, or undefined. */
export function parseBigint(text: string): bigint | undefined {
  const digits = text.startsWith('-') ? text.length - 1 : text.length;
  if (digits > maxBigintDigits || !bigintPattern.test(text)) return undefined;
  return BigInt(text);
}

/** The wire text of NaN / Infinity / -Infinity under the `number` tag. */
export function nonFiniteText(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

export function parseNonFinite(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return undefined;
}

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Python Gaw sends uuid.UUID as `{"_t": "uuid", "_v": "<canonical text>"}`; it decodes to that text, lowercased. */
export function parseUuid(text: string): string | undefined {
  return uuidPattern.test(text) ? text.toLowerCase() : undefined;
}
