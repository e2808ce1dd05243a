import path from 'node:path';

import {envName, SETTINGS} from '../config/config.js';

export const SERVICE_NAME = 'sandman-reap.service';
export const TIMER_NAME = 'sandman-reap.timer';

/**
 * How often the reaper runs: the timer's OnUnitActiveSec and the cron line's minute field both
 * come from it, and doctor judges the last reap's age by it (docs/admin/reaper.md "The reaper").
 */
export const REAP_INTERVAL_MINUTES = 1;
const every = REAP_INTERVAL_MINUTES === 1 ? 'every minute' : `every ${REAP_INTERVAL_MINUTES} minutes`;

/** Quotes a word for a systemd ExecStart= line. */
/** `Environment=` lines for a unit's [Service] section. */
function environmentLines(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([key, value]) => `Environment=${quote(`${key}=${value}`)}\n`)
    .join('');
}

function quote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The reaper's units: a oneshot service running `sandman reap`, and a timer firing it every
 * REAP_INTERVAL_MINUTES (docs/admin/reaper.md "The reaper"). `command` is the absolute node binary and CLI script, so the unit runs the
 * same sandman as the one that wrote it.
 */
export function reaperUnits(options: {
  command: string[];
  environment?: Record<string, string>;
}): Record<string, string> {
  const environment = environmentLines(options.environment ?? {});
  const service = `# Written by "sandman systemd install". Removes expired sandman sessions.
[Unit]
Description=Remove expired sandman sessions and repair drift
After=docker.service
Wants=docker.service

[Service]
Type=oneshot
${environment}ExecStart=${[...options.command, 'reap'].map(quote).join(' ')}
Nice=5
`;
  const timer = `# Written by "sandman systemd install". Runs ${SERVICE_NAME} ${every}.
[Unit]
Description=Run sandman reap ${every}

[Timer]
OnBootSec=1min
OnUnitActiveSec=${REAP_INTERVAL_MINUTES}min
AccuracySec=5s
Persistent=true
Unit=${SERVICE_NAME}

[Install]
WantedBy=timers.target
`;
  return {[SERVICE_NAME]: service, [TIMER_NAME]: timer};
}

export const NODE_FIREWALL_SERVICE = 'sandman-node-firewall.service';
export const NODE_FIREWALL_TIMER = 'sandman-node-firewall.timer';

/** The node's timer: its firewall rules are put back every minute (after a reboot or a reload). */
export function nodeFirewallUnits(
  command: string[],
  environment: Record<string, string>,
): Record<string, string> {
  const service = `# Written by "sandman node setup". Keeps this swarm node's sandman firewall rules.
[Unit]
Description=Keep the sandman firewall rules of this swarm node
After=docker.service
Wants=docker.service

[Service]
Type=oneshot
${environmentLines(environment)}ExecStart=${[...command, 'node', 'setup', '--apply', '--firewall-only'].map(quote).join(' ')}
`;
  const timer = `# Written by "sandman node setup". Runs ${NODE_FIREWALL_SERVICE} every minute.
[Unit]
Description=Keep the sandman firewall rules of this swarm node

[Timer]
OnBootSec=30s
OnUnitActiveSec=1min
AccuracySec=5s
Unit=${NODE_FIREWALL_SERVICE}

[Install]
WantedBy=timers.target
`;
  return {[NODE_FIREWALL_SERVICE]: service, [NODE_FIREWALL_TIMER]: timer};
}

export const API_SOCKET_NAME = 'sandman-api.socket';
export const API_SERVICE_NAME = 'sandman-api.service';

/**
 * The HTTP API's units (docs/admin/http-api.md): a socket on which systemd listens, and the service it
 * starts on the first connection; `sandman api` exits when idle and the socket stays.
 */
export function apiUnits(options: {
  command: string[];
  environment?: Record<string, string>;
  socket: string;
  group: string;
  listen?: string;
}): Record<string, string> {
  const environment = environmentLines(options.environment ?? {});
  const socket = `# Written by "sandman systemd install --api". The sandman HTTP API, started on demand.
[Unit]
Description=sandman HTTP API socket

[Socket]
ListenStream=${options.socket}
SocketMode=0660
SocketGroup=${options.group}
${options.listen ? `ListenStream=${options.listen}\n` : ''}Accept=no

[Install]
WantedBy=sockets.target
`;
  const service = `# Written by "sandman systemd install --api". Exits after apiIdleTimeout without a request.
[Unit]
Description=sandman HTTP API
Requires=${API_SOCKET_NAME}
After=${API_SOCKET_NAME} docker.service

[Service]
Type=simple
ExecStart=${[...options.command, 'api'].map(quote).join(' ')}
${environment}`;
  return {[API_SOCKET_NAME]: socket, [API_SERVICE_NAME]: service};
}

export const GATEWAY_SOCKET_NAME = 'sandman-gateway.socket';
export const GATEWAY_SERVICE_NAME = 'sandman-gateway@.service';

/**
 * The SSH gateway's units (docs/admin/gateway.md "The SSH gateway"): systemd listens on gatewayPort and starts one
 * `sandman gateway` per accepted connection (Accept=yes); nothing runs between connections.
 */
export function gatewayUnits(options: {
  command: string[];
  environment?: Record<string, string>;
  port: number;
  maxConnectionsPerSource: number;
}): Record<string, string> {
  const socket = `# Written by "sandman systemd install --gateway". ssh -p ${options.port} USER@host reaches USER's session.
[Unit]
Description=sandman SSH gateway socket

[Socket]
ListenStream=${options.port}
Accept=yes
MaxConnectionsPerSource=${options.maxConnectionsPerSource}

[Install]
WantedBy=sockets.target
`;
  const service = `# Written by "sandman systemd install --gateway". One SSH connection; exits when it ends.
[Unit]
Description=sandman SSH gateway connection
After=docker.service

[Service]
Type=simple
ExecStart=${[...options.command, 'gateway'].map(quote).join(' ')}
StandardInput=null
StandardOutput=journal
StandardError=journal
${environmentLines(options.environment ?? {})}`;
  return {[GATEWAY_SOCKET_NAME]: socket, [GATEWAY_SERVICE_NAME]: service};
}

export const SELF_SOCKET_NAME = 'sandman-self.socket';
export const SELF_SERVICE_NAME = 'sandman-self.service';

/**
 * The in-session sandman's units (docs/admin/sessions.md "The in-session command"): systemd listens on the sessions
 * network's gateway address at selfServicePort (FreeBind: at boot the bridge may come after the
 * socket) and starts `sandman self-serve` on the first connection; it exits when idle.
 */
export function selfServeUnits(options: {
  command: string[];
  environment?: Record<string, string>;
  /** `172.18.0.1:2201`. */
  listen: string;
}): Record<string, string> {
  const socket = `# Written by "sandman systemd install --self-serve". The sandman command inside sessions, started on demand.
[Unit]
Description=sandman in-session command socket

[Socket]
ListenStream=${options.listen}
FreeBind=yes
Accept=no

[Install]
WantedBy=sockets.target
`;
  const service = `# Written by "sandman systemd install --self-serve". Exits after apiIdleTimeout without a request.
[Unit]
Description=sandman in-session command
Requires=${SELF_SOCKET_NAME}
After=${SELF_SOCKET_NAME} docker.service

[Service]
Type=simple
ExecStart=${[...options.command, 'self-serve'].map(quote).join(' ')}
${environmentLines(options.environment ?? {})}`;
  return {[SELF_SOCKET_NAME]: socket, [SELF_SERVICE_NAME]: service};
}

/**
 * The same job for cron, for hosts without systemd: with the same environment the units carry
 * (`env SANDMAN_CONFIG=… node …`), so the cron job reaps the same setup the units would.
 */
export function cronLine(command: string[], environment: Record<string, string> = {}): string {
  const assignments = Object.entries(environment).map(([key, value]) => shellQuote(`${key}=${value}`));
  const env = assignments.length > 0 ? ['env', ...assignments] : [];
  const minute = REAP_INTERVAL_MINUTES === 1 ? '*' : `*/${REAP_INTERVAL_MINUTES}`;
  return `${minute} * * * * root ${[...env, ...[...command, 'reap'].map(shellQuote)].join(' ')} >/dev/null 2>&1`;
}

/** The header of the cron file setup writes; `setup --remove` removes only a file that starts so. */
export const CRON_HEADER = '# Written by "sandman setup": the reaper, every minute.';

export function cronFile(command: string[], environment: Record<string, string>): string {
  return `${CRON_HEADER}\n${cronLine(command, environment)}\n`;
}

/** Quotes a word for /bin/sh, which runs cron's command lines (cron gives `%` a meaning: escaped). */
function shellQuote(word: string): string {
  const quoted = /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
  return quoted.replace(/%/g, '\\%');
}

/** How to run this very sandman from a unit file or cron: absolute node binary and CLI script. */
export function selfCommand(root: string): string[] {
  return [process.execPath, path.join(root, 'bin', 'run.js')];
}

/** Settings given through the environment are carried into the unit, so the timer sees the same setup. */
export function sandmanEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const names = ['SANDMAN_CONFIG', ...Object.keys(SETTINGS).map(envName)];
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}
