import {Flags} from '@oclif/core';

import {runDoctor, type Check} from '../src/doctor.js';
import {DockerodeContainerClient} from '../src/docker/dockerode-container-client.js';
import {SandmanError} from '../src/errors.js';
import {ExecaNvidiaSmi} from '../src/gpu/execa-nvidia-smi.js';
import {instanceId} from '../src/labels.js';
import {SandmanCommand} from '../cli/base-command.js';
import {loadChalk, renderTable} from '../cli/output.js';
import {stateStore} from '../cli/services.js';

export default class Doctor extends SandmanCommand {
  static override summary = 'Check the host: Docker, image, network, GPUs, state file, port range, reaper';
  static override description = 'Exits 1 when a check fails; warnings do not change the exit code.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json | jq ".error.details.checks // ."',
  ];

  static override flags = {
    'unit-dir': Flags.string({
      description: 'where the reaper units are installed',
      default: '/etc/systemd/system',
    }),
    'cron-file': Flags.string({
      description: 'cron file that may run the reaper instead',
      default: '/etc/cron.d/sandman',
    }),
  };

  async run(): Promise<{checks: Check[]}> {
    const {flags} = await this.parse(Doctor);
    const config = this.loadSettings(flags);
    const checks = await runDoctor({
      config,
      docker: new DockerodeContainerClient(),
      smi: new ExecaNvidiaSmi(config.nvidiaSmi),
      store: await stateStore(config),
      instance: instanceId(config.stateFile),
      unitDir: flags['unit-dir'],
      cronFile: flags['cron-file'],
    });
    if (!this.jsonEnabled()) {
      const chalk = await loadChalk(this.colour);
      const mark = (status: Check['status']) =>
        !chalk
          ? status
          : status === 'ok'
            ? chalk.green(status)
            : status === 'warn'
              ? chalk.yellow(status)
              : chalk.red(status);
      this.log(
        await renderTable(
          ['CHECK', 'STATUS', 'DETAIL'],
          checks.map((check) => [check.name, mark(check.status), check.detail]),
          chalk,
        ),
      );
      for (const check of checks.filter((item) => item.hint)) this.log(`\n${check.name}: ${check.hint}`);
    }
    const failed = checks.filter((check) => check.status === 'fail');
    if (failed.length > 0) {
      throw new SandmanError(
        'FAILURE',
        `${failed.length} check(s) failed: ${failed.map((check) => check.name).join(', ')}`,
        {
          details: {checks},
        },
      );
    }
    return {checks};
  }
}
