// The public API of gaw. Everything a user imports comes from here; internal modules are reached
// only through their own index files.
export * from './errors.js';
