import type {Config} from '../config/config.js';
import type {Check} from '../setup/doctor.js';
import {LABELS} from '../core/labels.js';
import {schedulable, type Cluster, type SwarmTask} from './cluster.js';

/** How long doctor waits for the image check to run on every node. */
const IMAGE_CHECK_TIMEOUT_MS = 30_000;

const ok = (name: string, detail: string): Check => ({name, status: 'ok', detail, hint: ''});

/** Tasks of sessions that Swarm could not run, with the engine's reason. */
export function troubledTasks(tasks: SwarmTask[]): SwarmTask[] {
  return tasks.filter(
    (task) =>
      task.desiredState === 'running' &&
      ((task.state === 'pending' && task.error !== undefined) ||
        task.state === 'failed' ||
        task.state === 'rejected'),
  );
}

/** doctor's swarm-mode checks (docs/admin/swarm.md): manager, nodes, GPUs, the image on every node, tasks. */
export async function swarmChecks(cluster: Cluster, config: Config, instance: string): Promise<Check[]> {
  try {
    await cluster.requireManager();
  } catch (error) {
    return [
      {
        name: 'swarm manager',
        status: 'fail',
        detail: (error as Error).message,
        hint: 'run sandman on a manager node (docker swarm init, or docker node promote)',
      },
    ];
  }
  const checks: Check[] = [ok('swarm manager', 'this engine manages the swarm')];
  const nodes = await cluster.nodes();
  const unavailable = nodes.filter((node) => !schedulable(node));
  const ready = nodes.length - unavailable.length;
  checks.push(
    unavailable.length === 0
      ? ok('swarm nodes', `${nodes.length} node(s) ready and active`)
      : {
          name: 'swarm nodes',
          status: ready === 0 ? 'fail' : 'warn',
          detail: `${ready} of ${nodes.length} ready and active; ${unavailable
            .map((node) => `${node.name} ${node.state}/${node.availability}`)
            .join(', ')}`,
          hint: 'users pinned to those nodes cannot start sessions (their homes are there) until they are back',
        },
  );
  const devices = nodes.map((node) => `${node.name}: ${node.resources.length}`);
  checks.push(
    nodes.some((node) => node.resources.length > 0)
      ? ok('advertised GPUs', devices.join(', '))
      : {
          name: 'advertised GPUs',
          status: 'warn',
          detail: 'no node advertises GPU or MIG devices',
          hint: 'run "sandman node setup --apply" on each GPU node, then restart its dockerd',
        },
  );
  const images = await cluster.imageOnNodes(config.image, IMAGE_CHECK_TIMEOUT_MS);
  const missing = images.filter((image) => !image.present);
  checks.push(
    missing.length === 0
      ? ok('image on nodes', `${config.image} runs on ${images.length} node(s)`)
      : {
          name: 'image on nodes',
          status: 'fail',
          detail: missing.map((image) => `${image.node}: ${image.detail}`).join('; '),
          hint: `push ${config.image} to a registry the nodes pull from, or docker save ${config.image} | ssh NODE docker load`,
        },
  );
  const troubled = troubledTasks(await cluster.tasks({[LABELS.instance]: instance}));
  checks.push(
    troubled.length === 0
      ? ok('session tasks', 'every session task runs or is starting')
      : {
          name: 'session tasks',
          status: 'warn',
          detail: troubled
            .map((task) => `${task.service}: ${task.state} (${task.error ?? 'no reason given'})`)
            .join('; '),
          hint: '"sandman reap" reports them too; docker service ps NAME --no-trunc shows the history',
        },
  );
  return checks;
}
