import {installUnits} from '../../src/setup/adapters/fs-unit-files.js';
import type {Handler} from '../../cli/command-spec.js';
import {chosenUnits} from './units.js';

const install: Handler = async ({flags}, context): Promise<{files: string[]}> => {
  const {units, enable} = await chosenUnits(flags, context);
  const files = await installUnits(flags.dir as string, units);
  for (const file of files) context.out.log(`Wrote ${file}`);
  context.out.log(`Now run: systemctl daemon-reload && systemctl enable --now ${enable}`);
  return {files};
};
export default install;
