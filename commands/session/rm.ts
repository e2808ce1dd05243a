import {Args, Flags} from '@oclif/core';

import {invalidInput, SandmanError} from '../../src/errors.js';
import type {SessionView} from '../../src/session/session-view.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {sessionQueries, sessionService} from '../../cli/services.js';
import {interactive} from '../../cli/terminal.js';

export default class SessionRm extends SandmanCommand {
  static override summary = 'Remove sessions (the workspace is kept)';
  static override description =
    'Removes the container, releases the GPU slice and port, deletes the key and the record. ' +
    "The user's workspace is never deleted.";
  static override hiddenAliases = ['session:remove'];
  static override strict = false;
  static override examples = [
    '<%= config.bin %> session rm alice',
    '<%= config.bin %> session rm 7f3a9c2e1b04 bob',
    '<%= config.bin %> session rm --all --yes',
  ];

  static override args = {
    sessions: Args.string({description: 'session IDs, unique ID prefixes or user names'}),
  };

  static override flags = {
    all: Flags.boolean({description: 'remove every session'}),
    yes: Flags.boolean({
      char: 'y',
      description: 'do not ask for confirmation (needed for --all without a terminal)',
    }),
  };

  async run(): Promise<{removed: SessionView[]}> {
    const {argv, flags} = await this.parse(SessionRm);
    const references = argv as string[];
    if (flags.all && references.length > 0) throw invalidInput('give session IDs or --all, not both');
    if (!flags.all && references.length === 0) throw invalidInput('missing session ID or user (or --all)');
    const config = this.loadSettings(flags);
    if (flags.all && !flags.yes) await this.confirmAll((await (await sessionQueries(config)).list()).length);
    const service = await sessionService(config);

    const {removed, errors} = flags.all ? await service.removeAll() : await service.remove(references);
    for (const session of removed)
      this.log(`Removed ${session.session_id} (${session.ssh_user}); workspace ${session.workspace} kept`);
    if (errors.length > 0) {
      // The last error decides the exit code (3 for an unknown session); the message names them all.
      const last = errors.at(-1)!;
      const done = removed.length > 0 ? ` (removed: ${removed.map((s) => s.session_id).join(', ')})` : '';
      throw new SandmanError(last.kind, errors.map((error) => error.message).join('; ') + done);
    }
    return {removed};
  }

  private async confirmAll(count: number): Promise<void> {
    if (count === 0) return;
    if (this.jsonEnabled() || !interactive()) {
      throw invalidInput('refusing to remove every session without confirmation: add --yes');
    }
    const {confirm} = await import('@inquirer/prompts');
    const ok = await confirm({
      message: `Remove all ${count} session(s)? Workspaces are kept.`,
      default: false,
    });
    if (!ok) throw invalidInput('aborted: nothing was removed');
  }
}
