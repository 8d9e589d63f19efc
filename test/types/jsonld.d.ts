// The parts of jsonld 9 (a development dependency, no bundled types) that the tests use.
declare module 'jsonld' {
  interface RemoteDocument {
    contextUrl: string | null;
    documentUrl: string;
    document: unknown;
  }
  interface Options {
    documentLoader?: (url: string) => Promise<RemoteDocument>;
    /** Safe mode: an undefined term, a relative IRI or any dropped value is an error. */
    safe?: boolean;
    base?: string | null;
  }
  const jsonld: {
    expand(input: unknown, options?: Options): Promise<Array<Record<string, unknown>>>;
    compact(input: unknown, ctx: unknown, options?: Options): Promise<Record<string, unknown>>;
    toRDF(input: unknown, options?: Options & { format?: 'application/n-quads' }): Promise<string>;
  };
  export default jsonld;
}

// @digitalbazaar/credentials-context 3.2.0: the VC contexts by URL.
declare module '@digitalbazaar/credentials-context' {
  export const contexts: Map<string, unknown>;
  export const named: Map<string, { id: string; context: unknown }>;
}
