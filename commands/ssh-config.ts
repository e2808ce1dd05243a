import {invalidInput} from '../src/errors.js';
import {sshConfig, type SshConfigView} from '../src/session/ssh-config.js';
import type {Handler} from '../cli/command-spec.js';

const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Prints the Host block; `>> ~/.ssh/config` and `ssh ALIAS` (or VS Code's Remote-SSH) connect. */
const sshConfigCommand: Handler = async ({args, flags}, context): Promise<SshConfigView> => {
  const session = await (await context.services().sessionQueries()).find(args.session!);
  const alias = (flags.alias as string | undefined) ?? `sandman-${session.user}`;
  if (!ALIAS.test(alias))
    throw invalidInput(`invalid --alias ${JSON.stringify(alias)}: letters, digits, . _ - only`);
  for (const name of ['identity-file', 'known-hosts-file']) {
    const value = flags[name] as string | undefined;
    if (value !== undefined && /[\s"]/.test(value))
      throw invalidInput(`--${name} must be a path without spaces or quotes`);
  }
  const view = sshConfig(session, {
    alias,
    identityFile: (flags['identity-file'] as string | undefined) ?? session.ssh_private_key_path,
    knownHostsFile: flags['known-hosts-file'] as string,
  });
  context.out.log(view.config.trimEnd());
  return view;
};
export default sshConfigCommand;
