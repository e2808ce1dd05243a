import {execa, type ResultPromise} from 'execa';

import {BIN} from './constants.js';

/**
 * `sandman api` as sandman.socket runs it, with real systemd code: an outer
 * `systemd-socket-activate` binds `listen` once and keeps it bound for the test's whole life, as
 * systemd keeps a .socket unit's listener; a loop hands that socket (LISTEN_FDS) to a fresh
 * `systemd-socket-activate`, which waits for the next connection and only then starts
 * `node … api`, again after every idle exit. A client never meets a refused connect between two
 * API processes (an earlier loop re-bound the port each time and a browser once landed in the gap).
 * The API process is a direct child of the returned process (its pid), once it runs.
 */
export function socketActivatedApi(
  listen: string,
  env: Record<string, string>,
  /** A command to run it under, e.g. nsenter into a Swarm lab node's network namespace. */
  under: string[] = [],
): ResultPromise {
  const setenv = [...Object.keys(env), 'PATH'].flatMap((name) => ['-E', name]).join(' ');
  // LISTEN_PID must name the process that reads LISTEN_FDS: the inner sh's pid, kept by its exec.
  const inner = `export LISTEN_PID=\\$\\$; exec systemd-socket-activate ${setenv} node '${BIN}' api`;
  const loop = `while :; do sh -c "${inner}"; done`;
  const [command, ...args] = [
    ...under,
    'systemd-socket-activate',
    '-l',
    listen,
    ...setenv.split(' '),
    'sh',
    '-c',
    loop,
  ];
  return execa(command!, args, {env: {...process.env, ...env}, reject: false});
}

/**
 * Ends what socketActivatedApi started, by process id: the loop is held still first, so it starts no
 * new activator while the one it runs (or the API that activator became) is killed.
 */
export async function stopActivator(child: ResultPromise): Promise<void> {
  if (child.pid === undefined) return;
  process.kill(child.pid, 'SIGSTOP');
  await execa('pkill', ['-KILL', '-P', String(child.pid)], {reject: false});
  child.kill('SIGKILL');
}
