/**
 * `npm run bench`: sandman against raw Docker (or a bare `node -e 0`), side by side in one run,
 * median of BENCH_RUNS (default 5) runs each. Needs dockerd and the test base image (.ci/run).
 * The harness (bench/harness.ts) runs the scenarios (bench/scenarios/) in this order; BENCH_ONLY
 * names the ones to run.
 */
import {BASE, docker, IMAGE, nodeBaseline, printRows, sandman, teardown, type Row} from './harness.js';
import {
  benchConcurrentCreates,
  benchCreateRegistered,
  benchCreateToSsh,
  benchPeakMemory,
} from './scenarios/create.js';
import {benchCreateSteps} from './scenarios/create-steps.js';
import {benchAppProxy} from './scenarios/apps.js';
import {benchGateway, benchGatewayBurst} from './scenarios/gateway.js';
import {benchHandover, benchJobStart} from './scenarios/jobs.js';
import {benchJupyterProxy} from './scenarios/jupyter.js';
import {benchNoDocker} from './scenarios/no-docker.js';
import {benchQuota} from './scenarios/quota.js';
import {benchIdleReap, benchMassReap, benchReapFlat} from './scenarios/reap.js';
import {benchSelfStatus} from './scenarios/self.js';
import {benchStopStart} from './scenarios/stop-start.js';
import {benchUsage} from './scenarios/usage.js';

/** BENCH_ONLY's name for each scenario, and the scenario; `node` is `node -e 0`'s median. */
const SCENARIOS: Array<[string, (node: number) => Promise<Row[]>]> = [
  ['create', benchCreateToSsh],
  ['create-steps', benchCreateSteps],
  ['ls', benchNoDocker],
  ['reap-idle', benchIdleReap],
  ['reap-flat', benchReapFlat],
  ['create-user', benchCreateRegistered],
  ['reap-mass', benchMassReap],
  ['concurrent', benchConcurrentCreates],
  ['memory', benchPeakMemory],
  ['usage', benchUsage],
  ['gateway', benchGateway],
  ['stop-start', benchStopStart],
  ['quota', benchQuota],
  ['self', benchSelfStatus],
  ['job-start', benchJobStart],
  ['handover', benchHandover],
  ['apps', benchAppProxy],
  ['jupyter', benchJupyterProxy],
  ['gateway-burst', benchGatewayBurst],
];

async function main(): Promise<void> {
  if ((await docker(['image', 'inspect', IMAGE])).exitCode !== 0) {
    await sandman(['image', 'build', '--base', BASE, '--tag', IMAGE]);
  }
  // BENCH_ONLY=ls,reap-idle runs a subset while working on one figure.
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name: string) => !only || only.includes(name);
  const node = await nodeBaseline();
  const rows: Row[] = [];
  for (const [name, scenario] of SCENARIOS)
    if (want(name)) {
      const added = await scenario(node);
      // Each scenario's rows as they come, so a later scenario's failure loses none.
      for (const row of added) console.error(`${name}: ${JSON.stringify(row)}`);
      rows.push(...added);
    }
  /** A row of create against another row's figure measured in the same run, when both ran. */
  const createAgainst = (name: string, row: string, baselineName: string, target: number | null) => {
    const create = rows.find((found) => found.name === 'create → SSH ready');
    const baseline = rows.find((found) => found.name === row);
    if (create && baseline)
      rows.push({
        name,
        sandman: create.sandman,
        baseline: baseline.sandman,
        baselineName,
        target,
        unit: 'ms',
      });
  };
  // create against everything create must do, measured raw in the same run (create-steps).
  createAgainst(
    'create → SSH vs its raw steps',
    '+ host key mounted read-only',
    'create-steps "+ host key mounted read-only"',
    1.15,
  );
  // How much of that is sandman's own work: the same create from a Node client that does nothing else.
  createAgainst(
    'create → SSH vs a bare Node client',
    'the same from a bare Node client',
    'bench/node-client.cjs (create-steps)',
    null,
  );
  printRows(rows);
}

try {
  await main();
} finally {
  await teardown();
}
