import {cronLine, reaperUnits, sandmanEnvironment, selfCommand} from '../../src/setup/systemd-units.js';
import type {Handler} from '../../cli/command-spec.js';
import {chosenUnits} from './units.js';

const print: Handler = async ({flags}, context): Promise<{units: Record<string, string>; cron?: string}> => {
  const command = selfCommand(context.root);
  if (flags.api || flags.gateway || flags['self-serve']) {
    const {units} = await chosenUnits(flags, context);
    for (const [name, text] of Object.entries(units)) context.out.log(`# ${name}\n${text}`);
    return {units};
  }
  const units = reaperUnits({command, environment: sandmanEnvironment()});
  for (const [name, text] of Object.entries(units)) context.out.log(`# ${name}\n${text}`);
  const cron = cronLine(command, sandmanEnvironment());
  context.out.log(`# Without systemd, this line in /etc/cron.d/sandman does the same:\n# ${cron}`);
  return {units, cron};
};
export default print;
