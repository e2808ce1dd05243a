import {
  API_SOCKET_NAME,
  apiUnits,
  GATEWAY_SOCKET_NAME,
  gatewayUnits,
  reaperUnits,
  sandmanEnvironment,
  selfCommand,
  TIMER_NAME,
} from '../../src/setup/systemd-units.js';
import {invalidInput} from '../../src/core/errors.js';
import type {CommandContext, Flags} from '../../cli/command-spec.js';

/** The units `systemd print|install` deal with (reaper, --api or --gateway) and the one to enable. */
export function chosenUnits(
  flags: Flags,
  context: CommandContext,
): {units: Record<string, string>; enable: string} {
  if (flags.api && flags.gateway) throw invalidInput('--api and --gateway: one at a time');
  const command = selfCommand(context.root);
  const environment = sandmanEnvironment();
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
