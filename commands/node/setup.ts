import {invalidInput} from '../../src/core/errors.js';
import {sandmanEnvironment, selfCommand} from '../../src/setup/systemd-units.js';
import type {NodeSetupResult} from '../../src/swarm/node-setup.js';
import type {Handler} from '../../cli/command-spec.js';
import {renderSteps} from '../../cli/output.js';

/** `node setup`: one swarm node's part of swarm mode (docs/admin/swarm.md). */
const nodeSetup: Handler = async ({flags}, context): Promise<NodeSetupResult> => {
  const {out} = context;
  const runtime = await context.services().runtime();
  if (!runtime.nodeSetup)
    throw invalidInput(
      'node setup is for swarm mode: set backend to swarm (config file, or SANDMAN_BACKEND=swarm)',
    );
  const result = await runtime.nodeSetup({
    apply: flags.apply === true,
    firewallOnly: flags['firewall-only'] === true,
    daemonJson: flags['daemon-json'] as string,
    runtimeConfig: flags['runtime-config'] as string,
    unitDir: flags['unit-dir'] as string | undefined,
    command: selfCommand(context.root),
    environment: sandmanEnvironment(),
  });
  if (!out.json) {
    out.log(await renderSteps(result.steps, out.colour));
    if (!flags.apply && !flags['firewall-only']) {
      out.log(`\ndaemon.json (${String(flags['daemon-json'])}):`);
      out.log(JSON.stringify(result.daemon_json, null, 2));
      if (result.swarm_resource)
        out.log(`\n${String(flags['runtime-config'])}:\nswarm-resource = "${result.swarm_resource}"`);
      out.log('\nNothing changed: --apply writes these.');
    }
    if (result.restart_dockerd)
      out.log(
        `\nRestart dockerd${flags.apply ? ' now' : ' after --apply'} (systemctl restart docker): it reads daemon.json at start.`,
      );
  }
  return result;
};
export default nodeSetup;
