import {randomBytes} from 'node:crypto';

/**
 * The API's bearer token file (apiTokenFile, docs/admin/http-api.md): what `sandman api` accepts, what
 * `setup` makes and what `doctor` checks, so the three agree.
 */
export const TOKEN_FILE_MODE = 0o600;
const MIN_TOKEN_LENGTH = 16;

/** A new token: 32 random bytes, URL-safe base64 (43 characters). */
export function newApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Why `sandman api` would refuse this token file (its mode, undefined when there is none, and its
 * text, undefined when this account cannot read it), or undefined when it is fine.
 */
export function tokenFileProblem(
  file: string,
  mode: number | undefined,
  text: string | undefined,
): string | undefined {
  if (mode === undefined) return `apiTokenFile ${file} does not exist`;
  if ((mode & 0o077) !== 0)
    return `apiTokenFile ${file} is mode ${(mode & 0o777).toString(8)}: other accounts can read or change it (it must be 0600)`;
  if (text !== undefined && text.trim().length < MIN_TOKEN_LENGTH)
    return `apiTokenFile ${file} holds no token of at least ${MIN_TOKEN_LENGTH} characters`;
  return undefined;
}
