import {Flags} from '@oclif/core';

import {installUnits, reaperUnits, TIMER_NAME} from '../../src/systemd-units.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {sandmanEnvironment, selfCommand} from '../../cli/self-command.js';

export default class SystemdInstall extends SandmanCommand {
  static override summary = "Write the reaper's systemd service and timer to DIR";
  static override examples = [
    '<%= config.bin %> systemd install && systemctl daemon-reload && systemctl enable --now sandman-reap.timer',
    '<%= config.bin %> systemd install --dir /tmp/units',
  ];

  static override flags = {
    dir: Flags.string({description: 'where to write the units', default: '/etc/systemd/system'}),
  };

  async run(): Promise<{files: string[]}> {
    const {flags} = await this.parse(SystemdInstall);
    const files = await installUnits(
      flags.dir,
      reaperUnits({command: selfCommand(this.config.root), environment: sandmanEnvironment()}),
    );
    for (const file of files) this.log(`Wrote ${file}`);
    this.log(`Now run: systemctl daemon-reload && systemctl enable --now ${TIMER_NAME}`);
    return {files};
  }
}
