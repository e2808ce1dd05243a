/**
 * The web apps an image can carry for its sessions (docs/admin/apps.md):
 * what `image build --app NAME` installs, the label that tells sandman an image has them, and how
 * each starts inside a session. Pure: no engine, no files.
 */
import {IMAGE_LABELS} from '../core/labels.js';
import {invalidInput} from '../core/errors.js';

export interface AppDefinition {
  name: string;
  /** What the console's button says: "Open Jupyter". */
  title: string;
  /** Where it listens, on the container's own address on the sessions' network. */
  port: number;
  /** Debian/Ubuntu packages (from the base's own mirror) that carry it. */
  aptPackages: string[];
  /**
   * Its command line, run as the session's user in her home: bound to `address`:`port`, serving
   * under `baseUrl` (the proxy's path prefix), answering only requests that carry the token the
   * proxy adds (in `tokenEnv` of its environment), so sandman's proxy is the only way in.
   */
  command(address: string, baseUrl: string, home: string): string[];
  /** The environment variable the app reads its token from. */
  tokenEnv: string;
  /** The request header that carries the token (the proxy adds it; the browser never sees it). */
  tokenHeader(token: string): [name: string, value: string];
}

export const APPS: Readonly<Record<string, AppDefinition>> = {
  jupyter: {
    name: 'jupyter',
    title: 'Jupyter',
    port: 8888,
    // Debian's Jupyter Notebook 6 and the Python kernel it runs cells in.
    aptPackages: ['jupyter-notebook', 'python3-ipykernel'],
    tokenEnv: 'JUPYTER_TOKEN',
    command: (address, baseUrl, home) => [
      'jupyter',
      'notebook',
      '--no-browser',
      `--ip=${address}`,
      `--port=${8888}`,
      '--port-retries=0',
      `--NotebookApp.base_url=${baseUrl}`,
      // The token comes from JUPYTER_TOKEN (not on the command line, where `ps` would show it).
      '--NotebookApp.password=',
      // Requests come through sandman's proxy with the browser's own Host header.
      '--NotebookApp.allow_remote_access=True',
      `--NotebookApp.notebook_dir=${home}`,
    ],
    tokenHeader: (token) => ['authorization', `token ${token}`],
  },
};

/** Why an app cannot be built into images here, by name: a clear refusal (exit 2) instead of a broken build. */
const NOT_BUILDABLE: Readonly<Record<string, string>> = {
  'code-server':
    "code-server is not a Debian or Ubuntu package: its releases come from GitHub (github.com/coder/code-server), beyond the base's package mirror; " +
    'install it with --dockerfile from a copy you host, and open it through appPorts',
};

/** `--app jupyter` (spaces or commas, repeatable) → the apps' names, each known and buildable. */
export function parseApps(texts: string[]): string[] {
  const names = [...new Set(texts.flatMap((text) => text.split(/[\s,]+/)).filter(Boolean))];
  for (const name of names) {
    const why = NOT_BUILDABLE[name];
    if (why) throw invalidInput(`cannot build --app ${name}: ${why}`);
    if (!APPS[name])
      throw invalidInput(
        `unknown --app ${JSON.stringify(name)}: the apps are ${Object.keys(APPS).join(', ')}`,
      );
  }
  return names;
}

/** The apps a container's (or image's) labels say its image carries. */
export function appsOfLabels(labels: Record<string, string> | undefined): AppDefinition[] {
  const text = labels?.[IMAGE_LABELS.apps] ?? '';
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .flatMap((name) => (APPS[name] ? [APPS[name]] : []));
}

/** Where an app of a session is served through the API: `/s/ID/apps/NAME/`. */
export function appPath(session: string, app: string): string {
  return `/s/${session}/apps/${app}/`;
}

/** Where a user's own server on a port of her session is served: `/s/ID/port/N/`. */
export function portPath(session: string, port: number): string {
  return `/s/${session}/port/${port}/`;
}

/** A request for an app or a port of a session: what it names, and the path the app is asked for. */
export type AppTarget = {
  session: string;
  /** The prefix the browser sees (`/s/ID/apps/jupyter/`). */
  prefix: string;
} & ({kind: 'app'; app: string; upstreamPath: string} | {kind: 'port'; port: number; upstreamPath: string});

/**
 * `/s/ID/apps/NAME/rest?q` → an app target (the app serves under the prefix itself: its whole path
 * goes on); `/s/ID/port/N/rest?q` → a port target (the prefix is taken off: the server there does
 * not know it). Undefined for anything else. `/s/ID/apps/NAME` without the slash is `redirect`.
 */
export function parseAppUrl(pathAndQuery: string): AppTarget | {redirect: string} | undefined {
  const match = /^\/s\/([0-9a-f]{12})\/(apps|port)\/([a-z0-9-]{1,40})(\/[^?#]*)?(\?.*)?$/.exec(pathAndQuery);
  if (!match) return undefined;
  const [, session = '', kind, name = '', rest, query = ''] = match;
  const prefix = `/s/${session}/${kind}/${name}/`;
  if (rest === undefined) return {redirect: prefix + query};
  if (kind === 'apps') return {session, prefix, kind: 'app', app: name, upstreamPath: pathAndQuery};
  if (!/^[1-9][0-9]{0,4}$/.test(name) || Number(name) > 65535) return undefined;
  return {session, prefix, kind: 'port', port: Number(name), upstreamPath: rest + query};
}
