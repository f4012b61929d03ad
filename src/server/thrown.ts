// Turns whatever a handler threw (an Error, a string, undefined, any object) into the `{ name,
// message }` pair sent to callers as a server error's data, without ever throwing itself.
// Decides nothing about codes or logging; dispatch.ts does.

/** The most characters of a thrown value's name or message that are sent to a caller. */
export const maxThrownMessageChars = 10_000;
const maxNameChars = 200;

export interface ThrownDescription {
  name: string;
  message: string;
  stack?: string;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A safe description of a thrown value. Getters that throw and odd values are handled. */
export function describeThrown(thrown: unknown): ThrownDescription {
  try {
    if (thrown instanceof Error) {
      const name = typeof thrown.name === 'string' && thrown.name !== '' ? cut(thrown.name, maxNameChars) : 'Error';
      const message = typeof thrown.message === 'string' ? cut(thrown.message, maxThrownMessageChars) : '';
      const stack = typeof thrown.stack === 'string' ? thrown.stack : undefined;
      return stack === undefined ? { name, message } : { name, message, stack };
    }
    switch (typeof thrown) {
      case 'string':
        return { name: 'string', message: cut(thrown, maxThrownMessageChars) };
      case 'undefined':
        return { name: 'undefined', message: 'the handler threw undefined' };
      case 'number':
      case 'boolean':
      case 'bigint':
        return { name: typeof thrown, message: `the handler threw ${typeof thrown} ${String(thrown)}` };
      case 'symbol':
        return { name: 'symbol', message: 'the handler threw a symbol' };
      case 'function':
        return { name: 'function', message: 'the handler threw a function' };
      default:
        break;
    }
    if (thrown === null) return { name: 'null', message: 'the handler threw null' };
    // An error-like object: another realm's Error, or a plain { name, message }.
    const like = thrown as { name?: unknown; message?: unknown };
    if (typeof like.message === 'string') {
      const name = typeof like.name === 'string' && like.name !== '' ? cut(like.name, maxNameChars) : 'object';
      return { name, message: cut(like.message, maxThrownMessageChars) };
    }
    return { name: 'object', message: 'the handler threw an object that is not an Error' };
  } catch {
    return { name: 'unknown', message: 'the handler threw a value that could not be described' };
  }
}
