/**
 * Why sandman will not use this oidcClientSecretFile (its mode, undefined when there is none,
 * and its text, undefined when this account cannot read it), or undefined when it is fine: like
 * the API token's file (api-token.ts), only its owner may read it.
 */
export function clientSecretProblem(
  file: string,
  mode: number | undefined,
  text: string | undefined,
): string | undefined {
  if (mode === undefined) return `oidcClientSecretFile ${file} does not exist`;
  if ((mode & 0o077) !== 0)
    return `oidcClientSecretFile ${file} is mode ${(mode & 0o777).toString(8)}: other accounts can read or change it (it must be 0600)`;
  if (text === undefined) return `oidcClientSecretFile ${file} cannot be read by this account`;
  if (text.trim() === '') return `oidcClientSecretFile ${file} is empty`;
  return undefined;
}
