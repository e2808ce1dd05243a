/**
 * What nvidia-smi says on a GPU host's bad days, read from its own words (pure; tested on real
 * captures in test/fixtures/nvidia-smi, SOURCES.md "Failure messages"). The exit code alone does
 * not tell: "No devices were found" comes with 0 or 6 depending on the driver.
 */
export type SmiFailure =
  /** The kernel module is not loaded (after a driver update without a reboot, say). */
  | {kind: 'driver'}
  /** nvidia-smi runs but sees no GPU: an empty inventory, not an error. */
  | {kind: 'no-devices'}
  /** An older driver that does not know a queried field. */
  | {kind: 'unknown-field'; field: string}
  /** `mig -lgip`/`-lgi` on a host where no GPU has MIG on: no profiles, not an error. */
  | {kind: 'no-mig'}
  /** A read-only listing this user may not make on this driver. */
  | {kind: 'permissions'};

export function classifySmiOutput(text: string): SmiFailure | undefined {
  if (/couldn't communicate with the NVIDIA driver|NVIDIA driver is not loaded/i.test(text))
    return {kind: 'driver'};
  const field = /Field "([^"]+)" is not a valid field to query/.exec(text);
  if (field) return {kind: 'unknown-field', field: field[1]!};
  if (/^No devices were found\s*$/m.test(text)) return {kind: 'no-devices'};
  if (/No MIG-enabled devices found|No MIG-supported devices found/i.test(text)) return {kind: 'no-mig'};
  if (/Insufficient Permissions/i.test(text)) return {kind: 'permissions'};
  return undefined;
}

export const DRIVER_MESSAGE =
  'the NVIDIA driver is not loaded: nvidia-smi says it "couldn\'t communicate with the NVIDIA driver" ' +
  '(after a driver update, reboot or load the nvidia kernel module; run nvidia-smi to check)';
