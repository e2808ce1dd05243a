import type {ContainerClient} from '../runtime/docker/container-client.js';
import {SandmanError} from '../core/errors.js';
import type {SshEndpoint} from '../runtime/session-runtime.js';
import type {SshProbe} from '../ssh/ssh-probe.js';

/**
 * Waits until a session's sshd answers (create, start, extend), and stops early, with the
 * container's last output, when its container exits or keeps restarting: a container that dies at
 * once fails in seconds, not after the whole wait. False when the wait ran out.
 */
export async function waitForSsh(
  deps: {docker: Pick<ContainerClient, 'inspectContainer' | 'logs'>; sshProbe: SshProbe},
  target: {
    endpoint: SshEndpoint;
    containerId: string;
    /** The container's name, in the message. */
    name: string;
    timeoutMs: number;
    /** Restarts it had before this wait (a container started again counts from there). */
    restartsBefore?: number;
  },
): Promise<boolean> {
  const restartsBefore = target.restartsBefore ?? 0;
  return deps.sshProbe.waitForBanner({
    ...target.endpoint,
    timeoutMs: target.timeoutMs,
    check: async () => {
      const state = await deps.docker.inspectContainer(target.containerId);
      if (state && (!state.running || state.restartCount > restartsBefore)) {
        // A crash loop under the restart policy shows as "restarting" or "running again", with an
        // exit code that is not the crash's; only a container at rest has a trustworthy one.
        const crashLoop = state.restarting || state.restartCount > restartsBefore;
        const how = crashLoop
          ? `keeps exiting (restarted ${state.restartCount - restartsBefore} times)`
          : `exited with code ${state.exitCode}`;
        throw new SandmanError(
          'FAILURE',
          `container ${target.name} ${how} before SSH was ready; ` +
            `its last output: ${await lastLogLines(deps.docker, target.containerId)}`,
        );
      }
    },
  });
}

/** The container's last five lines of output, on one line; never fails. */
export async function lastLogLines(
  docker: Pick<ContainerClient, 'logs'>,
  containerId: string,
): Promise<string> {
  try {
    const stream = await docker.logs(containerId, {follow: false, tail: 5});
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').trim().replace(/\n/g, ' | ') || '(none)';
  } catch {
    return '(unavailable)';
  }
}
