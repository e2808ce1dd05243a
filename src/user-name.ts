import {invalidInput} from './errors.js';

/** POSIX-ish login names, as useradd accepts them by default (README "Command reference": session create). */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

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
  if (!USER_NAME.test(name)) {
    throw invalidInput(
      `invalid user name ${JSON.stringify(name)}: must match ^[a-z_][a-z0-9_-]{0,31}$ ` +
        '(lower-case letters, digits, "_" and "-", starting with a letter or "_", at most 32 characters)',
    );
  }
  if (RESERVED.has(name) || name.startsWith('systemd-')) {
    throw invalidInput(`invalid user name ${JSON.stringify(name)}: reserved for a system account`);
  }
  return name;
}
