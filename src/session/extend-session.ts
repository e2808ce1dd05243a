import {isoSeconds} from '../core/clock.js';
import {parseDuration} from '../core/duration.js';
import {conflict, invalidInput} from '../core/errors.js';
import {type SessionRecord} from '../state/state-data.js';
import {resolveSession} from './resolve.js';
import {toSessionView, type SessionView} from './session-view.js';
import {effectiveLimits} from '../users/user-limits.js';
import {checkBudget, checkExtensionTtl} from '../users/user-policy.js';
import {SessionContext, type SessionServiceDeps} from './session-context.js';
import {waitForSsh} from './ssh-readiness.js';

/** `session extend` (docs/reference/commands.md): a later expiry, and the container told about it. */
export class ExtendWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;

  constructor(ctx: SessionContext) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
  }

  /**
   * Pushes the expiry out by `ttl` (or to `until`, epoch milliseconds: the in-session `sandman
   * extend --until`), never past `maxTtl` after creation.
   */
  async extend(reference: string, ttlText: string | {until: number}): Promise<SessionView> {
    try {
      const view = await this.#extend(reference, ttlText);
      await this.#ctx.recorded({
        action: 'extend',
        session: view.session_id,
        user: view.ssh_user,
        result: 'ok',
        expires_at: view.expires_at,
      });
      return view;
    } catch (error) {
      await this.#ctx.recorded({
        action: 'extend',
        session: null,
        user: null,
        result: 'failed',
        reason: (error as Error).message,
      });
      throw error;
    }
  }

  async #extend(reference: string, ttlText: string | {until: number}): Promise<SessionView> {
    const {config, clock} = this.#deps;
    const ttl = typeof ttlText === 'string' ? parseDuration(ttlText, 'TTL') : undefined;
    // A GPU session whose user has spent their budget runs on, but is not extended.
    const current = await this.#deps.store.read();
    const target = resolveSession(current.sessions, reference);
    if (target.gpu_uuid)
      await checkBudget(
        target.user,
        effectiveLimits(config, target.user, current.users[target.user]),
        this.#deps.gpuHours,
        `cannot extend session ${target.id}: `,
      );
    const updated = await this.#deps.store.update((state) => {
      const session = resolveSession(state.sessions, reference);
      if (session.status !== 'running') {
        throw conflict(`session ${session.id} is ${session.status}; only a running session can be extended`);
      }
      const now = clock.now().getTime();
      const base = Math.max(Date.parse(session.expires_at), now);
      const next = ttl === undefined ? (ttlText as {until: number}).until : base + ttl;
      if (next <= base)
        throw invalidInput(
          `session ${session.id} already runs until ${isoSeconds(new Date(base))}: ask for a later time`,
        );
      const limits = effectiveLimits(config, session.user, state.users[session.user]);
      checkExtensionTtl(session, next, limits, config.maxTtl);
      const limit = Date.parse(session.created_at) + config.maxTtl;
      if (next > limit) {
        throw invalidInput(
          `cannot extend session ${session.id} to ${isoSeconds(new Date(next))}: sessions may last at most ` +
            `${config.maxTtl / 60_000} minutes (maxTtl) from creation, i.e. until ${isoSeconds(new Date(limit))}`,
        );
      }
      session.expires_at = isoSeconds(new Date(next));
      session.last_extended_by = this.#deps.actor ?? null;
      // A new expiry deserves a new warning.
      session.warned_at = null;
      return {...session};
    });
    await this.#refreshContainer(await this.#ctx.withGatewayKey(updated));
    return toSessionView(updated);
  }

  /**
   * The container learns the new expiry: its authorized_keys (expiry-time), its host certificate
   * (valid until then) and the login banner; sshd re-reads them on SIGHUP. A failure leaves the
   * record extended and says so: the key would stop at the old expiry.
   */
  async #refreshContainer(session: SessionRecord): Promise<void> {
    if (!session.container_id) return;
    const {docker, runtime} = this.#deps;
    try {
      const files = await this.#ctx.renewExpiry(session);
      // A runtime that cannot reach into its containers (Swarm: another node) keeps the old files.
      if (!runtime.inContainer) {
        if (files.length > 0) throw new Error('files cannot be put into a running session container here');
        return;
      }
      const {inContainer} = runtime;
      await inContainer.putFiles(session.container_id, files);
      if (session.host_public_key) {
        // sshd reads its host certificate at start: SIGHUP makes it start again (open connections
        // stay). Wait until it answers, so the next login does not meet the gap.
        const restartsBefore = (await docker.inspectContainer(session.container_id))?.restartCount ?? 0;
        const hup = await inContainer
          .exec(session.container_id, ['kill', '-HUP', '1'])
          .catch(() => undefined);
        if (hup?.exitCode === 0) {
          // A container whose sshd died of the new files says so (and its last output) at once.
          await waitForSsh(this.#deps, {
            endpoint: await this.#ctx.sshEndpoint(session),
            containerId: session.container_id,
            name: session.container_name,
            timeoutMs: 5_000,
            restartsBefore,
          });
        }
      }
    } catch (error) {
      this.#deps.warn(
        `session ${session.id} was extended, but its container could not be told (${(error as Error).message}); ` +
          'its key and host certificate keep the old expiry',
      );
    }
  }
}
