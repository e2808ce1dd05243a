import {invalidInput, notFound} from '../src/core/errors.js';
import {gatewaySshConfig, sshConfig, type SshConfigView} from '../src/session/ssh-config.js';
import type {CommandContext, Flags, Handler} from '../cli/command-spec.js';

const ALIAS = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Prints the Host block; `>> ~/.ssh/config` and `ssh ALIAS` (or VS Code's Remote-SSH) connect. */
const sshConfigCommand: Handler = async ({args, flags}, context): Promise<SshConfigView> => {
  for (const name of ['identity-file', 'known-hosts-file']) {
    const value = flags[name] as string | undefined;
    if (value !== undefined && /[\s"]/.test(value))
      throw invalidInput(`--${name} must be a path without spaces or quotes`);
  }
  if (flags.gateway) return gatewayBlock(args.session!, flags, context);
  const session = await (await context.services().sessionQueries()).find(args.session!);
  const alias = aliasOf(flags, session.user);
  const view = sshConfig(session, {
    alias,
    identityFile: (flags['identity-file'] as string | undefined) ?? session.ssh_private_key_path,
    knownHostsFile: flags['known-hosts-file'] as string,
  });
  context.out.log(view.config.trimEnd());
  return view;
};
export default sshConfigCommand;

function aliasOf(flags: Flags, user: string): string {
  const alias = (flags.alias as string | undefined) ?? `sandman-${user}`;
  if (!ALIAS.test(alias))
    throw invalidInput(`invalid --alias ${JSON.stringify(alias)}: letters, digits, . _ - only`);
  return alias;
}

/** `--gateway`: the block for a user (not a session), through the gateway's port. */
async function gatewayBlock(user: string, flags: Flags, context: CommandContext): Promise<SshConfigView> {
  const services = context.services();
  const state = await (await services.store()).read();
  if (!state.users[user]?.keys?.length && !state.sessions.some((session) => session.user === user))
    throw notFound(
      `${user} has no registered key, so the gateway would let them in nowhere: "sandman user add ${user} --ssh-key FILE"`,
    );
  const view = gatewaySshConfig(
    user,
    {host: await services.sshHost(), port: services.config.gatewayPort},
    {
      alias: aliasOf(flags, user),
      identityFile: (flags['identity-file'] as string | undefined) ?? null,
      knownHostsFile: flags['known-hosts-file'] as string,
    },
  );
  context.out.log(view.config.trimEnd());
  return view;
}
