import {
  API_SOCKET_NAME,
  apiUnits,
  installUnits,
  reaperUnits,
  sandmanEnvironment,
  selfCommand,
  TIMER_NAME,
} from '../../src/setup/systemd-units.js';
import type {Handler} from '../../cli/command-spec.js';

const install: Handler = async ({flags}, context): Promise<{files: string[]}> => {
  const command = selfCommand(context.root);
  const config = context.settings();
  const units = flags.api
    ? apiUnits({
        command,
        environment: sandmanEnvironment(),
        socket: config.apiSocket,
        group: config.apiSocketGroup,
        listen: config.apiListen,
      })
    : reaperUnits({command, environment: sandmanEnvironment()});
  const files = await installUnits(flags.dir as string, units);
  for (const file of files) context.out.log(`Wrote ${file}`);
  context.out.log(
    `Now run: systemctl daemon-reload && systemctl enable --now ${flags.api ? API_SOCKET_NAME : TIMER_NAME}`,
  );
  return {files};
};
export default install;
