import {cronLine, reaperUnits} from '../../src/systemd-units.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {sandmanEnvironment, selfCommand} from '../../cli/self-command.js';

export default class SystemdPrint extends SandmanCommand {
  static override summary = "Print the reaper's systemd service and timer (and the cron alternative)";
  static override examples = [
    '<%= config.bin %> systemd print',
    '<%= config.bin %> systemd print --json | jq -r \'.units["sandman-reap.timer"]\'',
  ];

  async run(): Promise<{units: Record<string, string>; cron: string}> {
    await this.parse(SystemdPrint);
    const command = selfCommand(this.config.root);
    const units = reaperUnits({command, environment: sandmanEnvironment()});
    for (const [name, text] of Object.entries(units)) this.log(`# ${name}\n${text}`);
    const cron = cronLine(command);
    this.log(`# Without systemd, this line in /etc/cron.d/sandman does the same:\n# ${cron}`);
    return {units, cron};
  }
}
