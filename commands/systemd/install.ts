import {
  installUnits,
  reaperUnits,
  sandmanEnvironment,
  selfCommand,
  TIMER_NAME,
} from '../../src/systemd-units.js';
import type {Handler} from '../../cli/command-spec.js';

const install: Handler = async ({flags}, context): Promise<{files: string[]}> => {
  const files = await installUnits(
    flags.dir as string,
    reaperUnits({command: selfCommand(context.root), environment: sandmanEnvironment()}),
  );
  for (const file of files) context.out.log(`Wrote ${file}`);
  context.out.log(`Now run: systemctl daemon-reload && systemctl enable --now ${TIMER_NAME}`);
  return {files};
};
export default install;
