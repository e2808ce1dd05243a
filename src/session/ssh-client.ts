/** Where this host reaches a port published on `bindAddress`: loopback for a wildcard bind. */
export function localAddress(bindAddress: string): string {
  return ['0.0.0.0', '::'].includes(bindAddress) ? '127.0.0.1' : bindAddress;
}
