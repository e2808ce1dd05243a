/**
 * Apps in sessions (docs/admin/apps.md): which a session's image offers,
 * who may open them, where the proxy sends a request (and with which token), starting an app that
 * is not running, and recording the activity the proxy sees for the idle reaper.
 */
import type {Config} from '../config/config.js';
import type {Clock} from '../core/clock.js';
import {isoSeconds} from '../core/clock.js';
import {SandmanError} from '../core/errors.js';
import {LABELS} from '../core/labels.js';
import type {ContainerClient, InContainerClient} from '../runtime/docker/container-client.js';
import type {SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import type {Grant} from '../web/web-access.js';
import {APP_START_SCRIPT} from './app-start.js';
import {appPath, appsOfLabels, type AppDefinition, type AppTarget} from './app-catalog.js';
import {SessionTargets} from './session-targets.js';

export interface AppServiceDeps {
  config: Pick<Config, 'network' | 'appPorts' | 'idleTimeout'>;
  /** This setup's instance ID: only its own containers are looked at. */
  instance: string;
  store: StateStore;
  /** The state file's identity on disk (a `stat`): the proxy keeps what it looked up while it is the same. */
  stateStamp: () => Promise<string | undefined>;
  containers: Pick<ContainerClient, 'listContainers'>;
  /** Reaching into this host's containers (absent in Swarm mode: apps are not available there). */
  inContainer?: Pick<InContainerClient, 'exec'>;
  clock: Clock;
}

/** Why a request for an app is not proxied: the HTTP status and a sentence for the page. */
export interface AppRefusal {
  status: 403 | 404 | 502 | 503;
  message: string;
}

/** Where the proxy sends a request: the container's own address, a port, and headers to add. */
export interface Upstream {
  host: string;
  port: number;
  headers: Record<string, string>;
  /** Whom the proxy tells when it finds nothing listening there (an app that stopped). */
  app?: string;
  containerId: string;
  session: string;
}

/** An app of a session as the API lists it (GET /sessions/{id}/apps). */
export interface SessionApp {
  name: string;
  title: string;
  url: string;
}

export const isRefusal = (value: Upstream | AppRefusal): value is AppRefusal => 'status' in value;

/** How often a session's activity through the proxy is written at most: a minute, or less under a short idleTimeout. */
export function activityInterval(idleTimeout: number | undefined): number {
  return Math.min(60_000, Math.max(1000, Math.floor((idleTimeout ?? 240_000) / 4)));
}

export class AppService {
  /** Each running app's token by container and app: asked of the container once per API process. */
  readonly #tokens = new Map<string, Promise<string>>();
  readonly #touched = new Map<string, number>();
  /** Sessions and their running containers, kept between requests while the state is unchanged. */
  readonly #targets: SessionTargets;

  constructor(private readonly deps: AppServiceDeps) {
    this.#targets = new SessionTargets(deps);
  }

  /** The apps a session's image offers, with their URLs under `publicUrl`. */
  async list(session: SessionRecord, publicUrl: string): Promise<SessionApp[]> {
    const containers = await this.deps.containers.listContainers({
      [LABELS.session]: session.id,
      [LABELS.instance]: this.deps.instance,
    });
    const labels =
      containers.find((container) => container.state === 'running')?.labels ?? containers[0]?.labels;
    return appsOfLabels(labels).map((app) => ({
      name: app.name,
      title: app.title,
      url: new URL(appPath(session.id, app.name), publicUrl).toString(),
    }));
  }

  /**
   * Where a request for `target` goes, or why it does not: only the session's user and the admin
   * get through, to that session's own running container; an app is started if it is not running.
   */
  async upstream(grant: Grant, target: AppTarget): Promise<Upstream | AppRefusal> {
    const what = target.kind === 'app' ? target.app : `port ${target.port}`;
    if (grant.kind === 'terminal')
      return {status: 403, message: "This login opens one session's terminal only."};
    const session = await this.#targets.session(target.session);
    if (!session)
      return {status: 404, message: `There is no session ${target.session}: it was removed, or never was.`};
    if (grant.kind === 'user' && session.user !== grant.user)
      return {
        status: 403,
        message: `Session ${session.id} is not yours: only its user and the admin open its apps.`,
      };
    if (session.status !== 'running')
      return {
        status: 404,
        message: `Session ${session.id} is ${session.status}: start it again (the console's Start) and open ${what} again.`,
      };
    const container = await this.#targets.running(session.id);
    if (!container) return {status: 404, message: `Session ${session.id} has no running container.`};
    const host = container.addresses?.[this.deps.config.network];
    if (!host || !this.deps.inContainer)
      return {
        status: 503,
        message:
          'Apps are not available here: this host does not reach sessions on their network (Swarm mode).',
      };
    if (target.kind === 'port') {
      if (!this.deps.config.appPorts.includes(target.port))
        return {
          status: 403,
          message: `Port ${target.port} is not open to the browser: the admin lists the ports users may serve in appPorts.`,
        };
      return {host, port: target.port, headers: {}, containerId: container.id, session: session.id};
    }
    const app = appsOfLabels(container.labels).find((one) => one.name === target.app);
    if (!app)
      return {
        status: 404,
        message: `Session ${session.id}'s image has no app ${target.app} (sandman image build --app ${target.app}).`,
      };
    let token: string;
    try {
      token = await this.#token(container.id, app, host, session);
    } catch (error) {
      return {status: 502, message: `${app.title} did not start: ${(error as Error).message}`};
    }
    const [name, value] = app.tokenHeader(token);
    return {
      host,
      port: app.port,
      headers: {[name]: value},
      app: app.name,
      containerId: container.id,
      session: session.id,
    };
  }

  /**
   * Nothing listened where an app should: the next request asks the engine for the session's
   * container again (it may have a new one, or a new address) and starts the app again.
   */
  forget(upstream: Pick<Upstream, 'containerId' | 'app' | 'session'>): void {
    this.#targets.drop(upstream.session);
    if (upstream.app) this.#tokens.delete(`${upstream.containerId}/${upstream.app}`);
  }

  /**
   * Something the user did through the proxy (README: a request or message that does something):
   * the session's last activity, written at most once per activityInterval, briefly under the lock.
   */
  async touch(sessionId: string): Promise<void> {
    if (this.deps.config.idleTimeout === undefined) return;
    const now = this.deps.clock.now().getTime();
    if (now - (this.#touched.get(sessionId) ?? 0) < activityInterval(this.deps.config.idleTimeout)) return;
    this.#touched.set(sessionId, now);
    await this.deps.store.update((state) => {
      const record = state.sessions.find((one) => one.id === sessionId);
      if (!record || record.status !== 'running') return;
      record.last_active_at = isoSeconds(new Date(now));
      record.last_active_reason = 'app';
    });
  }

  #token(containerId: string, app: AppDefinition, host: string, session: SessionRecord): Promise<string> {
    const key = `${containerId}/${app.name}`;
    let token = this.#tokens.get(key);
    if (!token) {
      token = this.#start(containerId, app, host, session);
      this.#tokens.set(key, token);
      token.catch(() => this.#tokens.delete(key));
    }
    return token;
  }

  /** Starts the app as the session's user unless it listens already; its token (README: the proxy's only). */
  async #start(
    containerId: string,
    app: AppDefinition,
    host: string,
    session: SessionRecord,
  ): Promise<string> {
    const home = `/home/${session.user}`;
    const result = await this.deps.inContainer!.exec(containerId, [
      'sh',
      '-c',
      APP_START_SCRIPT,
      'sandman-app',
      app.name,
      host,
      String(app.port),
      app.tokenEnv,
      ...app.command(host, appPath(session.id, app.name), home),
    ]);
    const token = result.stdout.trim().split('\n').pop() ?? '';
    if (result.exitCode !== 0 || !/^[0-9a-f]{64}$/.test(token))
      throw new SandmanError('FAILURE', (result.stderr.trim() || result.stdout.trim()).slice(-2000));
    return token;
  }
}
