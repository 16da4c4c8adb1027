/** The wire protocols a service may speak (the router picks one per request; protocol/ renders it). */
export type WireProtocol = 'json1.0' | 'json1.1' | 'query' | 'rest-json' | 'cbor';
