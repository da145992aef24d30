/**
 * What the engine inspects, independent of Node's HTTP objects: the request line as received, raw
 * header pairs in order, the body bytes. The policy and the regression runner both build one.
 */
export interface WafRequest {
  readonly method: string;
  /** The request target exactly as sent (`/a%20b?x=1`). */
  readonly uri: string;
  /** `HTTP/1.1` */
  readonly protocol: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | undefined;
  readonly remoteAddr: string;
  readonly remotePort?: number;
  readonly serverPort?: number;
}

export interface WafResponse {
  readonly status: number;
  readonly protocol: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer | undefined;
}
