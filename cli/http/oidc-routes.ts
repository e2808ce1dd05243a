import type {IncomingMessage, ServerResponse} from 'node:http';

import {parse, serialize} from 'cookie';

import type {Config} from '../../src/config/config.js';
import {isSandmanError} from '../../src/core/errors.js';
import {SignInRefused} from '../../src/web/open-id-provider.js';
import {CALLBACK_PATH, SIGN_IN_TTL_MS, type SiteSignIn} from '../../src/web/site-sign-in.js';
import {loginCookie} from './login-cookie.js';

/**
 * Site sign-in's two routes (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"): `GET /oidc/login` sends the
 * browser to the provider, `GET /oidc/callback` takes its answer. Both answer people, not
 * scripts: a redirect, or an HTML page that says what went wrong.
 */
export const SIGN_IN_PATHS = new Set(['/oidc/login', CALLBACK_PATH]);

/** The cookie that binds a sign-in under way to the browser that started it: for /oidc/ only. */
const SIGN_IN_COOKIE = 'sandman_oidc';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (char) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'})[char]!,
  );

/** The name on the console's "Sign in with …" button; undefined when there is no site sign-in. */
export function signInName(config: Pick<Config, 'oidcIssuer' | 'oidcName'>): string | undefined {
  if (!config.oidcIssuer) return undefined;
  return config.oidcName ?? new URL(config.oidcIssuer).host;
}

/** The console's login page's button, as HTML (console-files.ts puts it in). */
export function signInButton(name: string): string {
  return `<p class="sign-in"><a class="button" id="sign-in" href="/oidc/login">Sign in with ${escapeHtml(name)}</a></p>`;
}

/** A page for a person at a browser: what happened, and the ways on. */
function page(response: ServerResponse, status: number, title: string, message: string): void {
  const text = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · sandman</title><link rel="stylesheet" href="/console.css"></head>
<body><header><h1>sandman</h1></header><main><section class="notice" role="alert">
<h2>${escapeHtml(title)}</h2><p id="reason">${escapeHtml(message)}</p>
<p><a href="/oidc/login">Sign in again</a> · <a href="/">The sandman console</a></p>
</section></main></body></html>
`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-frame-options': 'DENY',
  });
  response.end(text);
}

/** GET /oidc/login or /oidc/callback; `signIn` undefined: no oidcIssuer. */
export async function serveSignIn(
  pathname: string,
  request: IncomingMessage,
  response: ServerResponse,
  options: {signIn: () => Promise<SiteSignIn | undefined>; secure: boolean},
): Promise<void> {
  const {secure} = options;
  const cookieOptions = {httpOnly: true, sameSite: 'lax', secure, path: '/oidc/'} as const;
  let signIn: SiteSignIn | undefined;
  try {
    signIn = await options.signIn();
  } catch (error) {
    if (!isSandmanError(error)) throw error;
    return page(response, 500, 'Site sign-in is not set up right', error.message);
  }
  if (!signIn)
    return page(
      response,
      404,
      'No site sign-in here',
      'This host has no site sign-in (oidcIssuer is not set): log in with a login link or the API token.',
    );
  if (pathname === '/oidc/login') {
    try {
      const {url, cookie} = await signIn.begin();
      response.setHeader(
        'set-cookie',
        serialize(SIGN_IN_COOKIE, cookie, {...cookieOptions, maxAge: SIGN_IN_TTL_MS / 1000}),
      );
      return void response.writeHead(303, {location: url, 'cache-control': 'no-store'}).end();
    } catch (error) {
      if (error instanceof SignInRefused)
        return page(response, 502, 'The sign-in provider did not answer', error.message);
      if (isSandmanError(error))
        return page(response, 500, 'Site sign-in is not set up right', error.message);
      throw error;
    }
  }
  const query = new URL(request.url ?? '/', 'http://sandman').searchParams;
  const held = request.headers.cookie ? parse(request.headers.cookie)[SIGN_IN_COOKIE] : undefined;
  const source = request.socket.remoteAddress ?? '?';
  let outcome: Awaited<ReturnType<SiteSignIn['finish']>>;
  try {
    outcome = await signIn.finish(query, held, source);
  } catch (error) {
    if (!isSandmanError(error)) throw error;
    outcome = {refused: error.message, status: 500};
  }
  // The sign-in under way is over either way: its cookie goes.
  const cleared = serialize(SIGN_IN_COOKIE, '', {...cookieOptions, maxAge: 0});
  if ('refused' in outcome) {
    response.setHeader('set-cookie', cleared);
    return page(response, outcome.status, 'Sign-in refused', outcome.refused);
  }
  response.setHeader('set-cookie', [cleared, loginCookie(outcome.cookie, outcome.expiresAt, secure)]);
  response.writeHead(303, {location: '/', 'cache-control': 'no-store'}).end();
}
