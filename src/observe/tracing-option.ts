// The `tracing` option of GawServer and GawClient: its shape and its checks. Our own minimal
// types, so that gaw's declarations never name @opentelemetry/api (an optional peer dependency).
import { UsageError } from '../errors.js';

/** What `tracing: { tracerProvider }` takes: any OpenTelemetry TracerProvider. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/**
 * `true`: spans go to the TracerProvider registered globally (an OpenTelemetry SDK the application
 * set up), and nothing is recorded while none is; `{ tracerProvider }`: to that provider.
 */
export type TracingOption = boolean | { tracerProvider?: TracerProviderLike };

/** The provider `option` names, `'global'`, or undefined when tracing is off; throws on a bad option. */
export function checkTracing(option: unknown, where: string): TracerProviderLike | 'global' | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return 'global';
  const bad = () =>
    new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} must be true, false or { tracerProvider } (an OpenTelemetry TracerProvider)`,
    );
  if (typeof option !== 'object' || option === null) throw bad();
  const keys = Object.keys(option).filter((key) => key !== 'tracerProvider');
  if (keys.length > 0)
    throw new UsageError(
      'GAW_ERR_INVALID_OPTION',
      `${where} has unknown key ${JSON.stringify(keys[0])}: it takes { tracerProvider }`,
    );
  const provider = (option as { tracerProvider?: unknown }).tracerProvider;
  if (provider === undefined) return 'global';
  if (typeof (provider as TracerProviderLike | null)?.getTracer !== 'function') throw bad();
  return provider as TracerProviderLike;
}
