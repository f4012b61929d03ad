// Traces as interceptors: a SERVER span around each handled request (its parent the W3C trace
// context the request came with) and a CLIENT span around each GawClient call (its context sent
// on as the call's traceparent), named and attributed by the OpenTelemetry RPC conventions for
// JSON-RPC (tracing-attributes.ts). While no SDK is registered each call goes straight to next():
// no span, no attribute, and the call context still carries the trace on as it does without tracing.
import type { Context, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { ClientCall, ClientInterceptor, ServerCall, ServerInterceptor } from './interceptors.js';
import { loadOtelApi } from './tracing-api.js';
import type { Otel } from './tracing-api.js';
import { checkTracing } from './tracing-option.js';
import type { TracerProviderLike } from './tracing-option.js';
import { clientAttributes, failureAttributes, serverAttributes } from './tracing-attributes.js';

const tracerName = 'gaw';

/**
 * The SERVER span of each handled request, by its call context: a call its handler makes is that
 * span's child even when no OpenTelemetry context manager follows the handler (a sync handler, an
 * SDK set up without one).
 */
const serverSpans = new WeakMap<object, Span>();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A context whose span is the remote parent `traceparent` names (already checked on arrival); ROOT without one. */
function remoteParent(api: Otel, traceparent: string | undefined, tracestate: string | undefined): Context {
  if (traceparent === undefined) return api.ROOT_CONTEXT;
  const parent: SpanContext = {
    traceId: traceparent.slice(3, 35),
    spanId: traceparent.slice(36, 52),
    traceFlags: Number.parseInt(traceparent.slice(53, 55), 16),
    isRemote: true,
    ...(tracestate !== undefined && { traceState: api.createTraceState(tracestate) }),
  };
  return api.isSpanContextValid(parent) ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT;
}

/** The client span's parent: the active span, else the handled call's server span or its trace context. */
function clientParent(api: Otel, call: ClientCall): Context {
  const active = api.context.active();
  if (api.trace.getSpan(active) !== undefined) return active;
  if (call.parent === undefined) return remoteParent(api, call.outgoing.traceparent, call.outgoing.tracestate);
  const span = serverSpans.get(call.parent);
  return span === undefined
    ? remoteParent(api, call.parent.traceparent, call.parent.tracestate)
    : api.trace.setSpan(active, span);
}

function traceparentOf(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** Ends `span` as failed by `err`: the JSON-RPC error code and message, or the error's kind. */
function fail(api: Otel, span: Span, err: unknown, isServer: boolean): void {
  const { attributes, message, isUnexpected } = failureAttributes(err, isServer);
  span.setAttributes(attributes);
  if (isUnexpected && err instanceof Error) span.recordException(err);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
  span.end();
}

/** The interceptors of one `tracing` option: one for the server, one for the client. */
export class Tracing {
  /** Settles once @opentelemetry/api is loaded; rejects (GAW_ERR_MISSING_DEPENDENCY) when it is not installed. */
  readonly ready: Promise<void>;
  #api: Otel | undefined;
  #tracer: Tracer | undefined;

  constructor(provider: TracerProviderLike | 'global') {
    this.ready = loadOtelApi().then((api) => {
      this.#api = api;
      if (provider !== 'global') this.#tracer = provider.getTracer(tracerName) as Tracer;
    });
    this.ready.catch(() => {}); // the server's listen() or the client's first call reports it
  }

  /** The tracer that records: undefined while @opentelemetry/api loads and while no SDK is registered. */
  #recording(): Tracer | undefined {
    if (this.#tracer !== undefined || this.#api === undefined) return this.#tracer;
    const global = this.#api.trace.getTracerProvider();
    this.#tracer =
      global instanceof this.#api.ProxyTracerProvider
        ? global.getDelegateTracer(tracerName)
        : global.getTracer(tracerName);
    return this.#tracer;
  }

  readonly server: ServerInterceptor = (call, next) => {
    const tracer = this.#recording();
    if (tracer === undefined) return this.#api === undefined ? this.ready.then(() => this.server(call, next)) : next();
    return this.#serve(this.#api!, tracer, call, next);
  };

  readonly client: ClientInterceptor = (call, next) => {
    const tracer = this.#recording();
    if (tracer === undefined) return this.#api === undefined ? this.ready.then(() => this.client(call, next)) : next();
    return this.#call(this.#api!, tracer, call, next);
  };

  #serve(api: Otel, tracer: Tracer, call: ServerCall, next: () => unknown): unknown {
    const parent = remoteParent(api, call.context.traceparent, call.context.tracestate);
    const span = tracer.startSpan(
      `${call.service}/${call.method}`,
      { kind: api.SpanKind.SERVER, attributes: serverAttributes(call) },
      parent,
    );
    serverSpans.set(call.context, span);
    let result: unknown;
    try {
      result = api.context.with(api.trace.setSpan(parent, span), next);
    } catch (err) {
      fail(api, span, err, true);
      throw err;
    }
    if (!isThenable(result)) {
      span.end();
      return result;
    }
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        fail(api, span, err, true);
        throw err;
      },
    );
  }

  #call(api: Otel, tracer: Tracer, call: ClientCall, next: () => Promise<unknown>): Promise<unknown> {
    const parent = clientParent(api, call);
    const span = tracer.startSpan(
      `${call.service}/${call.method}`,
      { kind: api.SpanKind.CLIENT, attributes: clientAttributes(call) },
      parent,
    );
    const sent = span.spanContext();
    if (api.isSpanContextValid(sent)) {
      call.outgoing.traceparent = traceparentOf(sent);
      const state = sent.traceState?.serialize();
      call.outgoing.tracestate = state === '' ? undefined : state;
    }
    let result: Promise<unknown>;
    try {
      result = api.context.with(api.trace.setSpan(parent, span), next);
    } catch (err) {
      fail(api, span, err, false);
      return Promise.reject(err);
    }
    return result.then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        fail(api, span, err, false);
        throw err;
      },
    );
  }
}

/** The tracing interceptor for a server's `tracing` option, and what listen() awaits; undefined when off. */
export function serverTracing(option: unknown): { interceptor: ServerInterceptor; ready: Promise<void> } | undefined {
  const provider = checkTracing(option, 'tracing');
  if (provider === undefined) return undefined;
  const tracing = new Tracing(provider);
  return { interceptor: tracing.server, ready: tracing.ready };
}

/** The tracing interceptor for a client's `tracing` option; undefined when off. */
export function clientTracing(option: unknown): ClientInterceptor | undefined {
  const provider = checkTracing(option, 'tracing');
  return provider === undefined ? undefined : new Tracing(provider).client;
}
