import {cronLine, reaperUnits, sandmanEnvironment, selfCommand} from '../../src/systemd-units.js';
import type {Handler} from '../../cli/command-spec.js';

const print: Handler = async (_input, context): Promise<{units: Record<string, string>; cron: string}> => {
  const command = selfCommand(context.root);
  const units = reaperUnits({command, environment: sandmanEnvironment()});
  for (const [name, text] of Object.entries(units)) context.out.log(`# ${name}\n${text}`);
  const cron = cronLine(command);
  context.out.log(`# Without systemd, this line in /etc/cron.d/sandman does the same:\n# ${cron}`);
  return {units, cron};
};
export default print;
