import {invalidInput} from '../core/errors.js';

/**
 * POSIX-ish login names, as useradd accepts them by default (docs/reference/commands.md: session
 * create). Written for the `v` flag, as browsers compile an input's `pattern` (the `-` in the class
 * escaped): the web console's user field carries this very text (cli/http/console-files.ts).
 */
export const USER_NAME_PATTERN = '[a-z_][a-z0-9_\\-]{0,31}';
const USER_NAME = new RegExp(`^(?:${USER_NAME_PATTERN})$`, 'v');

/** Whether a name has the shape of a login (or group) name; reserved names are not looked at. */
export function isAccountName(name: string): boolean {
  return USER_NAME.test(name);
}

/** Accounts every Debian/Ubuntu image already has; a session must never take one over. */
const RESERVED = new Set([
  'root',
  'daemon',
  'bin',
  'sys',
  'sync',
  'games',
  'man',
  'lp',
  'mail',
  'news',
  'uucp',
  'proxy',
  'www-data',
  'backup',
  'list',
  'irc',
  'nobody',
  'sshd',
]);

export function validateUserName(name: string): string {
  if (!isAccountName(name)) {
    throw invalidInput(
      `invalid user name ${JSON.stringify(name)}: must match ^${USER_NAME_PATTERN}$ ` +
        '(lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters)',
    );
  }
  if (RESERVED.has(name) || name.startsWith('systemd-')) {
    throw invalidInput(`invalid user name ${JSON.stringify(name)}: reserved for a system account`);
  }
  return name;
}
