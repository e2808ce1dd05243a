import type {IncomingHttpHeaders} from 'node:http';

import {parse, serialize} from 'cookie';

/** The web console's login cookie (docs/admin/console-and-sign-in.md "In the browser"). */
export const LOGIN_COOKIE = 'sandman_login';

export function loginCookieOf(headers: IncomingHttpHeaders): string | undefined {
  return headers.cookie ? parse(headers.cookie)[LOGIN_COOKIE] : undefined;
}

/**
 * The Set-Cookie of a login: HttpOnly (no script reads it), SameSite=Lax (other sites' pages do
 * not send it), Secure when the API's public URL is https, ending when the login ends.
 */
export function loginCookie(value: string, expires: Date, secure: boolean): string {
  return serialize(LOGIN_COOKIE, value, {httpOnly: true, sameSite: 'lax', secure, path: '/', expires});
}

/** The Set-Cookie that takes the login cookie away (logout). */
export function clearedLoginCookie(secure: boolean): string {
  return serialize(LOGIN_COOKIE, '', {httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: 0});
}
