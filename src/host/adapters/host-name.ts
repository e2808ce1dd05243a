import {execFile} from 'node:child_process';
import {hostname} from 'node:os';

/** The host's fully qualified name, for connection details; falls back to the short name. */
export function fqdn(): Promise<string> {
  const short = hostname();
  if (short.includes('.')) return Promise.resolve(short);
  return new Promise((resolve) => {
    execFile('hostname', ['-f'], {timeout: 1000}, (error, stdout) => {
      const name = stdout?.trim();
      resolve(!error && name && !/\s/.test(name) ? name : short);
    });
  });
}
