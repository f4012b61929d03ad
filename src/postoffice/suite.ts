// The GAWP/1 constants: suites, codec bytes, frame types and reject reasons, each with the byte
// the wire carries, and which suite a configuration means. What a suite does to a frame is in
// seal.ts.
import { type HandshakeRejectReason, UsageError } from '../errors.js';

export const suites = { none: 0, sign: 1, cbc: 2, secretbox: 3 } as const;
export type SuiteName = keyof typeof suites;
export type SuiteId = (typeof suites)[SuiteName];

export const codecBytes = { json: 0, msgpack: 1 } as const;
export type CodecName = keyof typeof codecBytes;
export type CodecId = (typeof codecBytes)[CodecName];

export const frameTypes = { data: 1, close: 2 } as const;

export const rejectReasons = { version: 1, suite: 2, codec: 3, keyId: 4, busy: 5, flags: 6 } as const satisfies Record<
  Exclude<HandshakeRejectReason, 'unknown'>,
  number
>;
export type RejectReason = keyof typeof rejectReasons;

/** Flag bit 0: ephemeral X25519 keys are present (forward secrecy). */
export const FLAG_FS = 0x01;

export const suiteNames: readonly SuiteName[] = ['none', 'sign', 'cbc', 'secretbox'];
export const codecNames: readonly CodecName[] = ['json', 'msgpack'];

export interface SuiteChoice {
  suite?: SuiteName | undefined;
  encrypt?: boolean | undefined;
}

/**
 * The suite a server or client configuration means: no secret -> none; a secret -> sign, or cbc
 * with `encrypt`; an explicit `suite` must agree with whether there is a secret. Throws a
 * UsageError naming the conflict.
 */
export function chooseSuite(options: SuiteChoice, hasSecret: boolean): SuiteName {
  if (options.suite !== undefined) {
    checkSuiteName(options.suite);
    if ((options.suite === 'none') === hasSecret) {
      throw new UsageError(
        'GAW_ERR_INVALID_OPTION',
        hasSecret ? 'suite none cannot use a secret' : `suite ${options.suite} needs a secret`,
      );
    }
    return options.suite;
  }
  if (!hasSecret) {
    if (options.encrypt) throw new UsageError('GAW_ERR_BAD_SECRET', 'encrypt: true needs a secret');
    return 'none';
  }
  return options.encrypt ? 'cbc' : 'sign';
}

export function isSuiteName(value: unknown): value is SuiteName {
  return typeof value === 'string' && Object.hasOwn(suites, value);
}

export function isCodecName(value: unknown): value is CodecName {
  return typeof value === 'string' && Object.hasOwn(codecBytes, value);
}

/** `value` as a suite name; throws a UsageError naming it otherwise. */
export function checkSuiteName(value: unknown): SuiteName {
  if (!isSuiteName(value))
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `suite ${JSON.stringify(value)} is not none, sign, cbc or secretbox`,
    );
  return value;
}

/** `value` as a codec name; throws a UsageError naming it otherwise. */
export function checkCodecName(value: unknown): CodecName {
  if (!isCodecName(value))
    throw new UsageError('GAW_ERR_INVALID_OPTION', `codec ${JSON.stringify(value)} is not json or msgpack`);
  return value;
}
