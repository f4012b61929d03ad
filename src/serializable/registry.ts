// Node's class-tag registry: the portable one (registry-core.ts) with bytes as Buffers, the
// process-wide default registry, and the `@serializable` decorator and `register` function that
// fill it. Byte formats (json, msgpack) live in codec.ts.
import { nodeBytes } from './bytes-node.js';
import { Registry as PortableRegistry, registrationFunctions } from './registry-core.js';
import type { RegisterOptions, RegistryOptions, SerializableDecorator } from './registry-core.js';

export { checkMaxDepth } from './registry-core.js';
export type {
  DecodeOptions,
  EncodeOptions,
  RegisterOptions,
  RegistryOptions,
  SerializableDecorator,
} from './registry-core.js';

/**
 * Classes by tag, and the conversions between values and plain wire data; decoded bytes are
 * Buffers. Registries are independent: a tag registered in one is unknown to every other (the
 * built-in tags are in all).
 */
export class Registry extends PortableRegistry {
  constructor(options: RegistryOptions = {}) {
    super(options, nodeBytes);
  }
}

/** The registry `@serializable`, `register` and codecs use unless given another. */
export const defaultRegistry: Registry = new Registry();

const bound = registrationFunctions(defaultRegistry);

/** Registers `cls` in the default registry: the plain-function form of `@serializable`. */
export function register<T>(cls: abstract new (...args: any[]) => T, options: RegisterOptions<T>): void {
  bound.register(cls, options);
}

/** TC39 standard class decorator: `@serializable('MathResult') class MathResult { ... }`. */
export function serializable(tag: string, options?: Omit<RegisterOptions<any>, 'tag'>): SerializableDecorator {
  return bound.serializable(tag, options);
}
