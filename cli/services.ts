/**
 * The wiring: the one place that builds the real implementation of each outside system (Docker
 * through dockerode, nvidia-smi and iptables as child processes, the state file through lowdb,
 * locks through proper-lockfile, key files, workspaces, the SSH probe, signals, the audit log, the
 * metrics file, the clock) and hands them to the use cases. Every factory imports what it needs on demand, so a
 * command loads only its own part of sandman (`reap` runs every minute, `session ls` in scripts).
 */
import {systemClock} from '../src/core/clock.js';
import {invalidInput} from '../src/core/errors.js';
import type {Config} from '../src/config/config.js';
import type {EngineClient} from '../src/runtime/docker/engine-client.js';
import type {SessionEndpoints, RuntimeViews, SessionRuntime} from '../src/runtime/session-runtime.js';
import type {SwarmRuntime} from '../src/runtime/swarm/swarm-runtime.js';
import type {NodeSetupRequest, NodeSetupResult} from '../src/swarm/node-setup.js';
import type {Check} from '../src/setup/doctor.js';
import type {GpuAllocator} from '../src/gpu/gpu-allocator.js';
import type {GpuService} from '../src/gpu/gpu-service.js';
import type {NvidiaSmi} from '../src/gpu/nvidia-smi.js';
import type {DcgmExporter} from '../src/gpu/dcgm-exporter.js';
import type {HostIdentity} from '../src/ssh/host-identity.js';
import type {Locks} from '../src/state/locks.js';
import type {NetworkBoundary} from '../src/network/network-boundary.js';
import type {Reaper} from '../src/reap/reaper.js';
import type {Notifier} from '../src/notify/notifier.js';
import type {RemoveSetupRequest} from '../src/setup/remove-setup.js';
import type {SetupRequest} from '../src/setup/set-up-host.js';
import type {SetupStep} from '../src/setup/setup-host.js';
import type {ReaperLocation} from '../src/setup/setup-record.js';
import type {UsageService} from '../src/usage/usage-service.js';
import type {UserService} from '../src/users/user-service.js';
import type {SessionQueries} from '../src/session/session-queries.js';
import type {SessionService} from '../src/session/session-service.js';
import {stateDirOf, type StateDir} from '../src/state/state-dir.js';
import type {StateStore} from '../src/state/state-store.js';
import type {QueuedRequest} from '../src/state/state-data.js';
import type {Warn} from '../src/core/warn.js';
import type {GatewayKeys} from '../src/gateway/gateway-keys.js';
import type {GatewayOutcome} from '../src/gateway/gateway-server.js';
import type {TerminalService} from '../src/web/terminal-service.js';
import type {AppService} from '../src/apps/app-service.js';
import type {WebAccess} from '../src/web/web-access.js';
import type {SiteSignIn} from '../src/web/site-sign-in.js';
import type {Duplex} from 'node:stream';
import type {AuditLog} from '../src/audit/audit-log.js';

export interface Services {
  readonly config: Config;
  readonly stateDir: StateDir;
  store(): Promise<StateStore>;
  containers(): Promise<EngineClient>;
  /**
   * Where sessions run, as the commands that only look see it (GPU views, host names, doctor's
   * checks, image distribution, node setup): one host's or the cluster's (docs/admin/swarm.md).
   */
  runtime(): Promise<RuntimeViews>;
  /** Where sessions' sshd answers (their published port, their address on the sessions network). */
  sessionEndpoints(): Promise<SessionEndpoints>;
  hostIdentity(): Promise<HostIdentity>;
  /** The host name printed in connection details: sshHost, or this host's FQDN. */
  sshHost(): Promise<string>;
  sessionQueries(): Promise<SessionQueries>;
  /** sandman's own key for logging in to sessions (`sandman ssh`, the gateway's relay key): its file. */
  relayKeyFile(): Promise<string>;
  sessionService(progress?: (step: string) => void): Promise<SessionService>;
  reaper(progress?: (step: string) => void): Promise<Reaper>;
  gpuService(): Promise<GpuService>;
  /** Looks for the reaper where the options say, else where setup put it, else systemd's or cron's place. */
  doctor(options: {unitDir?: string; cronFile?: string; reaper?: ReaperLocation}): Promise<Check[]>;
  networkBoundary(): Promise<NetworkBoundary>;
  usage(): Promise<UsageService>;
  /** People as records: keys, group, defaults, limits (docs/admin/users-and-limits.md "Users and limits"). */
  users(): Promise<UserService>;
  /** The SSH gateway for one accepted connection (docs/admin/gateway.md "The SSH gateway"). */
  gateway(): Promise<{serve(socket: Duplex, source: string): Promise<GatewayOutcome>}>;
  /** Browser logins and one-time terminal links (docs/admin/console-and-sign-in.md "In the browser"). */
  webAccess(): Promise<WebAccess>;
  /** The browser terminal: a shell in a session over SSH (docs/admin/console-and-sign-in.md "In the browser"). */
  terminals(): Promise<TerminalService>;
  /** The audit log, its lines naming this run's actor (docs/admin/audit-and-metrics.md). */
  auditLog(): Promise<AuditLog>;
  /** A one-time console login link for a user (`sandman web` in a session; src/web/user-login-link.ts). */
  userLoginLink(user: string): Promise<{url: string; expires_at: string}>;
  /** Sign-in at the site's OpenID provider (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"); undefined without oidcIssuer. */
  siteSignIn(): Promise<SiteSignIn | undefined>;
  /** Apps in sessions and the proxy's targets (docs/admin/apps.md). */
  apps(): Promise<AppService>;
  setup(request: SetupRequest): Promise<{steps: SetupStep[]; checks: Check[]; reaper: ReaperLocation}>;
  /** Notices: the outbox and its channels, e-mail and webhooks (docs/admin/notifications-and-idleness.md "Notifications"). */
  notifier(): Promise<Notifier>;
  removeSetup(request: RemoveSetupRequest): Promise<SetupStep[]>;
}

const warn: Warn = (message) => process.stderr.write(`sandman: warning: ${message}\n`);

/** Builds the services for one command run; each adapter is made once, when first asked for. */
export function wire(config: Config, options: {actor?: string} = {}): Services {
  const stateDir = stateDirOf(config.stateFile);
  const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
    let made: Promise<T> | undefined;
    return () => (made ??= make());
  };

  const store = once(async (): Promise<StateStore> => {
    const {LowdbStateStore} = await import('../src/state/adapters/lowdb-state-store.js');
    return new LowdbStateStore(stateDir.file, {
      lockTimeout: config.lockTimeout,
      group: config.apiSocketGroup,
    });
  });

  const webAccess = once(async (): Promise<WebAccess> => {
    const [{WebAccess}, {FileWebAccessStore}] = await Promise.all([
      import('../src/web/web-access.js'),
      import('../src/web/adapters/file-web-access-store.js'),
    ]);
    return new WebAccess(
      new FileWebAccessStore(stateDir.webAccess, await locks(), config.lockTimeout),
      systemClock,
    );
  });
  // Swarm mode: sessions are services on a cluster, through the same interface (docs/admin/swarm.md).
  const swarm = once(async () => {
    const {DockerodeSwarmServices} =
      await import('../src/runtime/swarm/adapters/dockerode-swarm-services.js');
    return new DockerodeSwarmServices(config.readyTimeout);
  });
  // This host's engine: every resource, and it reaches into its containers (InContainerClient).
  const hostEngine = once(async () => {
    const {DockerodeContainerClient} =
      await import('../src/runtime/docker/adapters/dockerode-container-client.js');
    return new DockerodeContainerClient();
  });
  const containers = once(async (): Promise<EngineClient> =>
    config.backend === 'swarm' ? swarm() : hostEngine(),
  );
  const sessionEndpoints = once(async (): Promise<SessionEndpoints> => {
    if (config.backend === 'swarm')
      return (await import('../src/runtime/swarm/swarm-runtime.js')).swarmEndpoints;
    const {dockerEndpoints} = await import('../src/runtime/docker/docker-runtime.js');
    return dockerEndpoints(config, await containers());
  });
  /** dcgm-exporter for MIG devices' utilisation (docs/admin/notifications-and-idleness.md "GPU idleness"), when dcgmExporterUrl is set. */
  const dcgmExporter = async (): Promise<{dcgm?: DcgmExporter}> => {
    if (!config.dcgmExporterUrl) return {};
    const {HttpDcgmExporter} = await import('../src/gpu/adapters/http-dcgm-exporter.js');
    return {dcgm: new HttpDcgmExporter(config.dcgmExporterUrl)};
  };
  const nvidiaSmi = once(async (): Promise<NvidiaSmi> => {
    const {ProcessNvidiaSmi} = await import('../src/gpu/adapters/process-nvidia-smi.js');
    return new ProcessNvidiaSmi(config.nvidiaSmi);
  });
  const locks = once(async (): Promise<Locks> => {
    const {ProperLockfileLocks} = await import('../src/state/adapters/proper-lockfile-locks.js');
    return new ProperLockfileLocks(stateDir);
  });
  const hostCa = once(async (): Promise<HostIdentity> => {
    const {FileHostCa} = await import('../src/ssh/adapters/file-host-ca.js');
    return new FileHostCa(stateDir.caDir, systemClock);
  });
  const gatewayKeys = once(async (): Promise<GatewayKeys & {relayKeyFile(): Promise<string>}> => {
    const {FileGatewayKeys} = await import('../src/gateway/adapters/file-gateway-keys.js');
    return new FileGatewayKeys(stateDir.gatewayDir);
  });
  const homeQuotas = once(async () =>
    (await import('../src/homes/adapters/home-quota-setup.js')).homeQuotasFor(config),
  );
  const networkBoundary = once(async (): Promise<NetworkBoundary> => {
    const [{NetworkBoundary}, {IptablesFirewall}] = await Promise.all([
      import('../src/network/network-boundary.js'),
      import('../src/network/adapters/iptables-firewall.js'),
    ]);
    return new NetworkBoundary(
      config,
      await containers(),
      new IptablesFirewall(),
      stateDir.instance,
      await locks(),
      {sessionsOnOtherNodes: config.backend === 'swarm'},
    );
  });
  const audit = once(async () => {
    const {JsonlAuditLog} = await import('../src/audit/adapters/jsonl-audit-log.js');
    return new JsonlAuditLog(config.auditLog, systemClock, warn, options.actor);
  });

  /** `node setup` on this node of the cluster (docs/admin/swarm.md). */
  const nodeSetup = async (request: NodeSetupRequest): Promise<NodeSetupResult> => {
    const [{setUpNode}, {fsSetupHost}, {DockerodeContainerClient}] = await Promise.all([
      import('../src/swarm/node-setup.js'),
      import('../src/setup/adapters/fs-setup-host.js'),
      import('../src/runtime/docker/adapters/dockerode-container-client.js'),
    ]);
    const boundary = await networkBoundary();
    return setUpNode(
      {
        config,
        stateDir: stateDir.dir,
        smi: await nvidiaSmi(),
        host: fsSetupHost,
        // The node's own engine: worker or manager, the configuration network is local.
        networks: new DockerodeContainerClient(),
        firewall: {ensure: () => boundary.ensure(), status: () => boundary.status()},
      },
      request,
    );
  };
  /** Swarm mode: the runtime of sessions as services on the cluster; undefined on a single host. */
  const swarmRuntime = once(async (): Promise<SwarmRuntime | undefined> => {
    if (config.backend !== 'swarm') return undefined;
    const {SwarmRuntime} = await import('../src/runtime/swarm/swarm-runtime.js');
    const swarmServices = await swarm();
    return new SwarmRuntime({
      config,
      docker: swarmServices,
      cluster: swarmServices.cluster,
      instance: stateDir.instance,
      store,
      setUpNode: nodeSetup,
    });
  });
  /** The runtime's views alone: on a single host, without the session workflows' adapters. */
  const runtimeViews = once(async (): Promise<RuntimeViews> => {
    const swarmViews = await swarmRuntime();
    if (swarmViews) return swarmViews;
    const [{dockerViews}, {fqdn}] = await Promise.all([
      import('../src/runtime/docker/docker-runtime.js'),
      import('../src/host/adapters/host-name.js'),
    ]);
    return dockerViews({config, sshHost: fqdn});
  });
  /** A user's GPU-hours over a window (budgets); the usage accounting loads only when one applies. */
  const gpuHours = async (user: string, windowMs: number) =>
    (await services.usage()).gpuHours(user, windowMs);

  /** Rewrites the metrics file after a change, when `metricsFile` is set (docs/admin/audit-and-metrics.md). */
  const afterChange = (): (() => Promise<void>) | undefined => {
    const file = config.metricsFile;
    if (!file) return undefined;
    return async () => {
      const [{readInventory}, {renderMetrics}, {writeMetricsFile}] = await Promise.all([
        import('../src/gpu/inventory.js'),
        import('../src/audit/metrics.js'),
        import('../src/audit/adapters/metrics-file.js'),
      ]);
      const smi = await nvidiaSmi();
      const inventory = (await smi.available())
        ? await readInventory(smi, {profiles: false}).catch(() => undefined)
        : undefined;
      const state = await (await store()).read();
      const {budgetUses} = await import('../src/users/budget-use.js');
      const budgets = await budgetUses(config, state, async (users) =>
        (await services.usage()).gpuHoursOfUsers(users),
      );
      // Homes under a quota (docs/admin/disk-quotas.md): read only when a quota is set anywhere.
      const quotasSet =
        config.workspaceQuota !== undefined ||
        Object.values(config.groups).some((group) => group.quota !== undefined) ||
        Object.values(state.users).some((user) => user.limits?.quota !== undefined);
      const homes = quotasSet
        ? (await (await services.users()).list()).flatMap((view) =>
            view.disk ? [{user: view.user, used: view.disk.used, limit: view.disk.limit}] : [],
          )
        : [];
      await writeMetricsFile(file, await renderMetrics(state, inventory, budgets, homes));
    };
  };

  /** The SMTP server, when smtpUrl is set (nodemailer loads only to send or check). */
  const mail = config.smtpUrl
    ? once(async () => {
        const {NodemailerMailSender} = await import('../src/notify/adapters/nodemailer-mail-sender.js');
        return new NodemailerMailSender(config.smtpUrl!, config.smtpPasswordFile);
      })
    : undefined;
  const notifier = once(async (): Promise<Notifier> => {
    const [{Notifier}, {fetchWebhookPoster}, {fqdn}] = await Promise.all([
      import('../src/notify/notifier.js'),
      import('../src/notify/adapters/fetch-webhook-poster.js'),
      import('../src/host/adapters/host-name.js'),
    ]);
    return new Notifier({
      config,
      store: await store(),
      clock: systemClock,
      ...(mail ? {mail} : {}),
      webhooks: fetchWebhookPoster,
      // Swarm mode: session terminals may be on other nodes, out of reach.
      ...(config.backend === 'swarm' ? {} : {terminals: await hostEngine()}),
      from: async () => config.notifyFrom ?? `sandman@${await fqdn()}`,
    });
  });
  /** A queued request (a session's, or a job that waited) that started: its user is told. */
  const notifyStarted = async (entry: QueuedRequest): Promise<void> => {
    const {notifyStartedWith} = await import('../src/notify/started-notices.js');
    return notifyStartedWith(notifier, config, systemClock)(entry);
  };
  const deliverNotices = async () => (await notifier()).deliver();

  const sessionService = async (progress?: (step: string) => void): Promise<SessionService> => {
    const [
      {SessionService},
      {NvidiaSmiGpuAllocator},
      {FsKeyStore},
      hostIdentity,
      {fsWorkspaces},
      {tcpPortProbe},
      {tcpSshProbe},
      {processSignals},
      {processTable},
      {fqdn},
      {envFaultPoint},
      {getentHostAccounts},
      {fsJobLogStore},
    ] = await Promise.all([
      import('../src/session/session-service.js'),
      import('../src/gpu/nvidia-smi-gpu-allocator.js'),
      import('../src/ssh/adapters/fs-key-store.js'),
      hostCa(),
      import('../src/homes/adapters/fs-workspaces.js'),
      import('../src/network/adapters/tcp-port-probe.js'),
      import('../src/ssh/adapters/tcp-ssh-probe.js'),
      import('../src/host/adapters/process-signals.js'),
      import('../src/host/adapters/process-table.js'),
      import('../src/host/adapters/host-name.js'),
      import('../src/core/adapters/env-fault-point.js'),
      import('../src/users/adapters/getent-host-accounts.js'),
      import('../src/jobs/adapters/fs-job-log-store.js'),
    ]);
    const [stateStore, docker, smi, hostLocks, auditLog, swarmSessions] = await Promise.all([
      store(),
      containers(),
      nvidiaSmi(),
      locks(),
      audit(),
      swarmRuntime(),
    ]);
    const keys = new FsKeyStore(stateDir.keysDir);
    const boundary = await networkBoundary();
    // The one place that picks the runtime (docs/admin/swarm.md): Swarm's scheduler hands out
    // devices there, not nvidia-smi on this host.
    let runtime: SessionRuntime;
    let gpus: GpuAllocator;
    if (swarmSessions) {
      const {SwarmGpuAllocator} = await import('../src/swarm/swarm-gpu-allocator.js');
      gpus = new SwarmGpuAllocator();
      runtime = swarmSessions;
    } else {
      const {DockerRuntime} = await import('../src/runtime/docker/docker-runtime.js');
      gpus = new NvidiaSmiGpuAllocator(config, smi, hostLocks);
      runtime = new DockerRuntime({
        config,
        docker: await hostEngine(),
        gpus,
        keys,
        workspaces: fsWorkspaces,
        homeQuotas,
        networkBoundary: boundary,
        sshHost: fqdn,
      });
    }
    return new SessionService({
      config,
      stateDir,
      store: stateStore,
      docker,
      gpus,
      runtime,
      keys,
      hostIdentity,
      gatewayKeys: await gatewayKeys(),
      homeQuotas,
      networkBoundary: boundary,
      workspaces: fsWorkspaces,
      hostAccounts: getentHostAccounts,
      locks: hostLocks,
      clock: systemClock,
      portProbe: tcpPortProbe(config.bindAddress),
      sshProbe: tcpSshProbe,
      signals: processSignals,
      processes: processTable,
      sshHost: fqdn,
      warn,
      progress,
      audit: auditLog,
      actor: options.actor ?? (await import('../src/audit/adapters/jsonl-audit-log.js')).actor(),
      afterChange: afterChange(),
      gpuHours,
      faultPoint: envFaultPoint,
      notifyStarted,
      deliverNotices,
      jobLogs: fsJobLogStore,
    });
  };

  const services: Services = {
    config,
    stateDir,
    store,
    containers,
    runtime: runtimeViews,
    sessionEndpoints,
    hostIdentity: hostCa,
    networkBoundary,
    sshHost: async () => {
      const [{connectionHost}, {fqdn}] = await Promise.all([
        import('../src/host/connection-host.js'),
        import('../src/host/adapters/host-name.js'),
      ]);
      return connectionHost(config, fqdn);
    },
    sessionQueries: async () => {
      const {SessionQueries} = await import('../src/session/session-queries.js');
      return new SessionQueries(await store(), systemClock, config);
    },
    relayKeyFile: async () => (await gatewayKeys()).relayKeyFile(),
    sessionService,
    reaper: async (progress) => {
      // Its modules and adapters load at once (each is a module to read), not one after another.
      const [
        {Reaper},
        {processTable},
        {procfsSshConnections},
        {cgroupActivity},
        {reapNotices},
        storeMade,
        docker,
        hostLocks,
        boundary,
        auditLog,
      ] = await Promise.all([
        import('../src/reap/reaper.js'),
        import('../src/host/adapters/process-table.js'),
        import('../src/ssh/adapters/procfs-ssh-connections.js'),
        import('../src/reap/adapters/cgroup-activity.js'),
        import('../src/notify/reap-notices.js'),
        store(),
        containers(),
        locks(),
        networkBoundary(),
        audit(),
      ]);
      let sessions: Promise<SessionService> | undefined;
      return new Reaper({
        // Homes under a quota get a warning when nearly full (the user service loads only then).
        users: {disk: async (user) => (await services.users()).disk(user)},
        config,
        store: storeMade,
        docker,
        // Swarm mode: session containers may be on other nodes, out of reach.
        ...(config.backend === 'swarm' ? {} : {inContainer: await hostEngine()}),
        // The session service (key handling, GPU allocator, ...) loads only when there is work.
        sessions: () => (sessions ??= sessionService()),
        clock: systemClock,
        locks: hostLocks,
        processes: processTable,
        sshConnections: procfsSshConnections,
        activity: cgroupActivity,
        gpuProcesses: async () => {
          const smi = await nvidiaSmi();
          return (await smi.available()) ? smi.computeApps() : [];
        },
        // The GPU rule's samples (docs/admin/notifications-and-idleness.md "GPU idleness"): none on a host without nvidia-smi.
        smi: async () => {
          const smi = await nvidiaSmi();
          if (!(await smi.available())) throw new Error('no nvidia-smi');
          return smi;
        },
        ...(await dcgmExporter()),
        warn,
        instance: stateDir.instance,
        networkBoundary: boundary,
        audit: auditLog,
        afterChange: afterChange(),
        progress,
        notices: reapNotices({
          config,
          notifier: await notifier(),
          store: storeMade,
          budgets: async (state) =>
            (await import('../src/users/budget-use.js')).budgetUses(config, state, async (users) =>
              (await services.usage()).gpuHoursOfUsers(users),
            ),
        }),
      });
    },
    gpuService: async () => {
      const {GpuService} = await import('../src/gpu/gpu-service.js');
      return new GpuService(await nvidiaSmi(), await store(), config);
    },
    users: async () => {
      const [{UserService}, {fsWorkspaces}, {getentHostAccounts}] = await Promise.all([
        import('../src/users/user-service.js'),
        import('../src/homes/adapters/fs-workspaces.js'),
        import('../src/users/adapters/getent-host-accounts.js'),
      ]);
      return new UserService({
        config,
        store: await store(),
        clock: systemClock,
        workspaces: fsWorkspaces,
        hostAccounts: getentHostAccounts,
        audit: await audit(),
        gpuHours,
        homeQuotas,
      });
    },
    gateway: async () => {
      const [{runGateway}, {sessionForUser}, {ssh2Gateway}] = await Promise.all([
        import('../src/gateway/gateway.js'),
        import('../src/gateway/session-for-user.js'),
        import('../src/gateway/adapters/ssh2-gateway.js'),
      ]);
      const deps = {
        config,
        store: await store(),
        endpoints: await sessionEndpoints(),
        keys: await gatewayKeys(),
        hostIdentity: await hostCa(),
        sshHost: services.sshHost,
        server: ssh2Gateway,
        audit: await audit(),
        clock: systemClock,
        sessionFor: (user: string, say: (line: string) => void) =>
          sessionForUser(
            {
              config,
              store: deps.store,
              // The create's steps (MIG device, container, SSH) reach the user's terminal too.
              create: async (request) =>
                (await sessionService((step) => say(`sandman: ${step} ...`))).createOrQueue(request),
              start: async (id) => (await sessionService((step) => say(`sandman: ${step} ...`))).start(id),
              removeExpired: async (session) => (await services.reaper()).removeExpired(session),
              clock: systemClock,
              sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
              say,
            },
            user,
          ),
      };
      return {serve: (socket, source) => runGateway(deps, socket, source)};
    },
    webAccess,
    siteSignIn: async () => {
      if (!config.oidcIssuer) return undefined;
      const [{SiteSignIn}, {OpenIdClientProvider}, {JsonlAuditLog}, {clientSecretProblem}, {readFile, stat}] =
        await Promise.all([
          import('../src/web/site-sign-in.js'),
          import('../src/web/adapters/openid-client-provider.js'),
          import('../src/audit/adapters/jsonl-audit-log.js'),
          import('../src/web/client-secret-file.js'),
          import('node:fs/promises'),
        ]);
      if (!config.oidcClientId)
        throw invalidInput(
          'oidcIssuer is set but oidcClientId is not: set the client ID the provider gave sandman',
        );
      const secretFile = config.oidcClientSecretFile;
      let clientSecret: string | undefined;
      if (secretFile !== undefined) {
        const mode = (await stat(secretFile).catch(() => undefined))?.mode;
        const text = await readFile(secretFile, 'utf8').catch(() => undefined);
        const problem = clientSecretProblem(secretFile, mode, text);
        if (problem) throw invalidInput(problem);
        clientSecret = text!.trim();
      }
      return new SiteSignIn({
        provider: new OpenIdClientProvider({
          issuer: config.oidcIssuer,
          clientId: config.oidcClientId,
          clientSecret,
        }),
        access: await services.webAccess(),
        store: await store(),
        config,
        register: async (user, group, actor) =>
          void (await wire(config, {actor}).users()).add(user, {group: group ?? undefined}),
        audit: (actor, entry) => new JsonlAuditLog(config.auditLog, systemClock, warn, actor).record(entry),
      });
    },
    terminals: async () => {
      const [{TerminalService}, {ssh2Terminal}] = await Promise.all([
        import('../src/web/terminal-service.js'),
        import('../src/web/adapters/ssh2-terminal.js'),
      ]);
      return new TerminalService({
        config,
        store: await store(),
        endpoints: await sessionEndpoints(),
        keys: await gatewayKeys(),
        audit: await audit(),
        client: ssh2Terminal,
      });
    },
    auditLog: audit,
    // The in-session `sandman web` (docs/admin/sessions.md "The in-session command"): her one-time console login link.
    userLoginLink: async (user) => {
      const {createUserLoginLink} = await import('../src/web/user-login-link.js');
      return createUserLoginLink(
        {access: await webAccess(), store: await store(), defaultTtl: config.terminalLinkTtl},
        {user, publicUrl: config.apiPublicUrl, madeBy: `${user} (sandman web)`},
      );
    },
    // One per process: it keeps the apps' tokens (an engine exec per app, not per request) and each
    // session's record and container while the state file is unchanged (a stat per request, not a read).
    apps: once(async () => {
      const [{AppService}, {fileStamp}] = await Promise.all([
        import('../src/apps/app-service.js'),
        import('../src/apps/adapters/file-stamp.js'),
      ]);
      // Reaching into containers: this host's engine; Swarm's runtime has no inContainer (tasks may be on other nodes).
      const swarmSessions = await swarmRuntime();
      const stateStore = await store();
      return new AppService({
        config,
        instance: stateDir.instance,
        store: stateStore,
        stateStamp: () => fileStamp(stateStore.file),
        containers: await containers(),
        inContainer: swarmSessions ? undefined : await hostEngine(),
        clock: systemClock,
      });
    }),
    usage: async () => {
      const [{UsageService}, {RotatedAuditFiles}] = await Promise.all([
        import('../src/usage/usage-service.js'),
        import('../src/audit/adapters/rotated-audit-files.js'),
      ]);
      return new UsageService(new RotatedAuditFiles(config.auditLog), await store(), systemClock, warn);
    },
    setup: async (request) => {
      const [{setUpHost}, {fsSetupHost}, {buildWorkspaceImage}] = await Promise.all([
        import('../src/setup/set-up-host.js'),
        import('../src/setup/adapters/fs-setup-host.js'),
        import('../src/setup/image.js'),
      ]);
      const docker = await containers();
      return setUpHost(
        {
          config,
          stateDir,
          host: fsSetupHost,
          docker,
          networkBoundary: await networkBoundary(),
          buildImage: (base) =>
            buildWorkspaceImage(docker, {contextDir: request.imageContext, tag: config.image, base}),
          doctor: (reaper) => services.doctor({reaper}),
          clock: systemClock,
          gatewayKeys: await gatewayKeys(),
        },
        request,
      );
    },
    removeSetup: async (request) => {
      const [{removeSetup}, {fsSetupHost}] = await Promise.all([
        import('../src/setup/remove-setup.js'),
        import('../src/setup/adapters/fs-setup-host.js'),
      ]);
      return removeSetup(
        {
          config,
          stateDir,
          host: fsSetupHost,
          docker: await containers(),
          store: await store(),
          networkBoundary: await networkBoundary(),
          removeAllSessions: async () => (await services.sessionService()).removeAll(),
          homeQuotas,
        },
        request,
      );
    },
    doctor: async (options) => {
      const views = await runtimeViews();
      const [
        {runDoctor},
        {fsHostFiles},
        {fsSetupHost},
        {readSetupRecord, reaperLocation},
        {getentHostAccounts},
      ] = await Promise.all([
        import('../src/setup/doctor.js'),
        import('../src/host/adapters/fs-host-files.js'),
        import('../src/setup/adapters/fs-setup-host.js'),
        import('../src/setup/setup-record.js'),
        import('../src/users/adapters/getent-host-accounts.js'),
      ]);
      const record = await readSetupRecord(fsSetupHost.read, stateDir.setupRecord);
      const reaper = options.reaper ?? reaperLocation(options, record, await fsSetupHost.systemd());
      const {serviceChecks} = await import('../src/setup/service-checks.js');
      return runDoctor({
        config,
        docker: await containers(),
        smi: await nvidiaSmi(),
        ...(await dcgmExporter()),
        store: await store(),
        files: fsHostFiles,
        engineAddress: process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock',
        instance: stateDir.instance,
        networkBoundary: await networkBoundary(),
        reaper,
        setupAt: record?.at,
        clock: systemClock,
        ...(views.doctorChecks ? {runtimeChecks: () => views.doctorChecks!()} : {}),
        serviceChecks: () =>
          serviceChecks({
            config,
            files: fsHostFiles,
            place: reaper,
            gateway: record?.gateway === true,
            tokenFile: config.apiTokenFile ?? record?.made.apiTokenFile,
          }),
        homeQuotas,
        hostAccounts: getentHostAccounts,
        notifyChecks: async () =>
          (await import('../src/notify/notify-checks.js')).notifyChecks({
            config,
            ...(mail ? {mail} : {}),
            webhooks: (await import('../src/notify/adapters/fetch-webhook-poster.js')).fetchWebhookPoster,
          }),
      });
    },
    notifier,
  };
  return services;
}
