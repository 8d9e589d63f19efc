/**
 * zktrust: the clients (zktrust/client) and the verifier (zktrust/verifier) in one import, for
 * Node. A browser imports zktrust/verifier alone; a program that runs the aggregator itself
 * imports zktrust/service.
 * @module
 */
export * from './client/index.ts';
export * from './verifier/index.ts';
