import {spawn} from 'node:child_process';

import {invalidInput} from '../src/core/errors.js';
import {adminLogin, sshClientArgs} from '../src/session/admin-login.js';
import type {Handler} from '../cli/command-spec.js';

/** Runs the OpenSSH client; like ssh itself, the remote command's exit status is ours. */
const ssh: Handler = async ({args, argv}, context) => {
  const {json} = context.out;
  const services = context.services();
  const session = await (await services.sessionQueries()).find(args.session!);
  if (session.status !== 'running')
    throw invalidInput(`session ${session.id} is ${session.status}, not running`);
  const command = argv.slice(1);
  const login = await adminLogin(
    {endpoints: await services.sessionEndpoints(), relayKeyFile: services.relayKeyFile},
    session,
  );
  const sshArgs = sshClientArgs(session, login, {tty: !json && command.length === 0});
  const child = spawn('ssh', [...sshArgs, ...command], {
    stdio: json ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', (error) =>
      reject(invalidInput(`cannot run the OpenSSH client (ssh): ${error.message}`)),
    );
    child.on('close', (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
  });
  if (code !== 0) context.setExitCode(code);
  return json ? {exit_code: code, stdout, stderr} : undefined;
};
export default ssh;
