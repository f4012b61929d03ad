// The serializable layer's surface without Node built-ins, for the browser client: the class-tag
// registry over plain Uint8Array bytes, its own default registry with `register` and
// `@serializable`, and nothing that reaches msgpackr or Buffer. Node code imports index.ts.
import { Registry, registrationFunctions } from './registry-core.js';

export { Registry, registrationFunctions } from './registry-core.js';
export type {
  DecodeOptions,
  EncodeOptions,
  RegisterOptions,
  RegistryOptions,
  SerializableDecorator,
} from './registry-core.js';
export { decodeBase64, encodeBase64 } from './bytes.js';

/** The registry the browser client, `register` and `@serializable` from `gaw/browser` use by default. */
export const defaultRegistry: Registry = new Registry();

export const { register, serializable } = registrationFunctions(defaultRegistry);
