import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {USER_NAME_PATTERN} from '../../src/users/user-name.js';
import {signInButton} from './oidc-routes.js';

/**
 * The web console's static files (docs/admin/console-and-sign-in.md "In the browser"): web/ and xterm.js, copied into
 * dist/web at build time (scripts/bundle.mjs) and shipped in the package; no CDN. The bundle's
 * chunks live in dist/bundle, so the files are one folder up.
 */
const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

/**
 * What the console serves: `/` is index.html; other names only as they are in the folder. With
 * `signInWith` (site sign-in's name), the login page offers "Sign in with …".
 */
export async function consoleFile(
  urlPath: string,
  signInWith?: string,
): Promise<{body: Buffer; type: string} | undefined> {
  const name = urlPath === '/' ? 'index.html' : urlPath.slice(1);
  // One plain file name: no folders, no dot files, nothing outside WEB_DIR.
  if (!/^[a-z0-9][a-z0-9.-]*\.(html|js|css|png)$/.test(name)) return undefined;
  const body = await readFile(path.join(WEB_DIR, name)).catch(() => undefined);
  if (!body) return undefined;
  // The user field's pattern is the one user-name rule, put in as the page is served.
  if (name === 'index.html')
    return {
      body: Buffer.from(
        body
          .toString('utf8')
          .replace('{{USER_NAME_PATTERN}}', USER_NAME_PATTERN)
          .replace('<!-- {{SIGN_IN}} -->', signInWith === undefined ? '' : signInButton(signInWith)),
      ),
      type: TYPES['.html']!,
    };
  return {body, type: TYPES[path.extname(name)]!};
}
