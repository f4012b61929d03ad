// The serializable module's public surface: the class-tag registry, the @serializable decorator
// and register function, and the json / msgpack codecs. Other modules import from here only.
export {
  Registry,
  defaultRegistry,
  register,
  serializable,
  type SerializableDecorator,
  type DecodeOptions,
  type EncodeOptions,
  type RegisterOptions,
  type RegistryOptions,
} from './registry.js';
export { createCodec, createRawJsonCodec, type Codec, type CodecName, type CodecOptions } from './codec.js';
/** Helpers for other wire dialects (src/legacy) that must agree with the registry's built-in forms. */
export { nonFiniteText, parseNonFinite } from './builtins.js';
export { defaultMaxDepth, setOwn } from './registry-tables.js';
