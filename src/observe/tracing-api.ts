// @opentelemetry/api, imported on first use: it is an optional peer dependency, which the core
// never loads. Only the tracing files use its types; gaw's public declarations never name it
// (the `tracing` option's types are in tracing-option.ts).
import { UsageError } from '../errors.js';
import type * as OtelApi from '@opentelemetry/api';

export type Otel = typeof OtelApi;

let loaded: Promise<Otel> | undefined;

/** Imports @opentelemetry/api once; a clear GAW_ERR_MISSING_DEPENDENCY when it is not installed. */
export function loadOtelApi(): Promise<Otel> {
  loaded ??= import('@opentelemetry/api').then(
    (module) => ((module as { trace?: unknown }).trace === undefined ? (module.default as Otel) : module),
    (err: unknown) => {
      loaded = undefined;
      throw new UsageError(
        'GAW_ERR_MISSING_DEPENDENCY',
        'tracing needs the package @opentelemetry/api (and an OpenTelemetry SDK to record spans): npm install @opentelemetry/api',
        { cause: err },
      );
    },
  );
  return loaded;
}
