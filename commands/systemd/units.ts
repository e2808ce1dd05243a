import {
  API_SOCKET_NAME,
  apiUnits,
  GATEWAY_SOCKET_NAME,
  gatewayUnits,
  reaperUnits,
  sandmanEnvironment,
  selfCommand,
  SELF_SOCKET_NAME,
  selfServeUnits,
  TIMER_NAME,
} from '../../src/setup/systemd-units.js';
import {invalidInput} from '../../src/core/errors.js';
import {LABELS} from '../../src/core/labels.js';
import type {CommandContext, Flags} from '../../cli/command-spec.js';

/** The units `systemd print|install` deal with (reaper, --api, --gateway or --self-serve) and the one to enable. */
export async function chosenUnits(
  flags: Flags,
  context: CommandContext,
): Promise<{units: Record<string, string>; enable: string}> {
  if ([flags.api, flags.gateway, flags['self-serve']].filter(Boolean).length > 1)
    throw invalidInput('--api, --gateway and --self-serve: one at a time');
  const command = selfCommand(context.root);
  const environment = sandmanEnvironment();
  if (flags['self-serve']) {
    const config = context.settings();
    if (config.selfServicePort === 0)
      throw invalidInput('selfServicePort is 0: the in-session sandman is off');
    const services = context.services();
    // The sessions network's gateway address (the network is made when missing, as create would).
    const [gateway] = await (
      await services.containers()
    ).ensureNetwork(config.network, {[LABELS.instance]: services.stateDir.instance});
    if (!gateway) throw invalidInput(`network ${config.network} has no gateway address`);
    const host = gateway.includes(':') ? `[${gateway}]` : gateway;
    return {
      units: selfServeUnits({command, environment, listen: `${host}:${config.selfServicePort}`}),
      enable: SELF_SOCKET_NAME,
    };
  }
  if (flags.gateway) {
    const config = context.settings();
    return {
      units: gatewayUnits({
        command,
        environment,
        port: config.gatewayPort,
        maxConnectionsPerSource: config.gatewayMaxConnectionsPerSource,
      }),
      enable: GATEWAY_SOCKET_NAME,
    };
  }
  if (flags.api) {
    const config = context.settings();
    return {
      units: apiUnits({
        command,
        environment,
        socket: config.apiSocket,
        group: config.apiSocketGroup,
        listen: config.apiListen,
      }),
      enable: API_SOCKET_NAME,
    };
  }
  return {units: reaperUnits({command, environment}), enable: TIMER_NAME};
}
