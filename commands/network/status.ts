import {SandmanError} from '../../src/core/errors.js';
import type {BoundaryStatus} from '../../src/network/network-boundary.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, renderTable} from '../../cli/output.js';

/** The firewall rules of the network policy, and whether each is in place (exit 1 if not). */
const networkStatus: Handler = async (_input, context): Promise<BoundaryStatus> => {
  const {out} = context;
  const status = await (await context.services().networkBoundary()).status();
  if (!out.json) {
    if (status.policy) {
      const {bridge, hostAllow, egress} = status.policy;
      out.log(
        `Sessions on ${bridge}: host ports allowed ${hostAllow.length > 0 ? hostAllow.join(',') : 'none'}; ` +
          `link-local dropped; egress ${Array.isArray(egress) ? egress.join(',') : egress}`,
      );
    }
    if (status.note) out.log(status.note);
    if (status.rules.length > 0) {
      const chalk = await loadChalk(out.colour);
      const mark = (value: string) =>
        !chalk ? value : value === 'ok' ? chalk.green(value) : chalk.red(value);
      out.log(
        await renderTable(
          ['FAMILY', 'CHAIN OR HOOK', 'STATUS', 'RULES'],
          status.rules.map((rule) => [
            `IPv${rule.family}`,
            rule.name,
            mark(rule.status),
            rule.rules.join(' | '),
          ]),
          chalk,
        ),
      );
    }
  }
  const broken = status.rules.filter((rule) => rule.status !== 'ok');
  if (broken.length > 0) {
    throw new SandmanError(
      'FAILURE',
      `${broken.length} firewall rule(s) missing or altered; "sandman reap" restores them`,
      {
        details: {status},
      },
    );
  }
  return status;
};
export default networkStatus;
