// Site sign-in with OpenID Connect (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)").
import {fail, filePath, listItems, text, type Settings} from './setting.js';

/**
 * An issuer sandman may trust: https, or http on this host's loopback only (a provider on the same
 * machine, as the tests run one); its tokens and keys must not cross a network in the clear.
 */
function issuerUrl(raw: unknown, where: string): string {
  const value = text(raw, where).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(where, "must be the provider's issuer URL, e.g. https://login.example.edu/realms/main");
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    fail(where, 'must be https (http only for a provider on 127.0.0.1 or localhost)');
  if (url.search || url.hash) fail(where, 'must have no query or fragment');
  return value;
}

export const OIDC_SETTINGS = {
  oidcIssuer: {
    description:
      'the site\'s OpenID Connect provider (issuer URL): the console offers "Sign in with" it; redirect URI {apiPublicUrl}/oidc/callback',
    defaultText: 'none (no site sign-in)',
    parse: issuerUrl,
  },
  oidcName: {
    description: 'the name on the console\'s "Sign in with NAME" button',
    defaultText: "the issuer's host name",
    parse: text,
  },
  oidcClientId: {
    description: "sandman's client ID at the OpenID provider",
    defaultText: 'none',
    parse: text,
  },
  oidcClientSecretFile: {
    description:
      'file (mode 0600) holding the client secret (client_secret_basic); none: a public client with PKCE only',
    defaultText: 'none',
    parse: filePath,
  },
  oidcScopes: {
    description: 'scopes asked for at sign-in (space- or comma-separated; openid is always asked)',
    default: 'openid profile',
    parse: (raw, where) => {
      const scopes = listItems(String(raw).replace(/\s+/g, ','));
      for (const scope of scopes)
        if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))
          fail(where, `${JSON.stringify(scope)} is not a scope`);
      return [...new Set(['openid', ...scopes])];
    },
  },
  oidcUserClaim: {
    description: "the claim holding the sandman user name (a registered user's name, or one to register)",
    default: 'preferred_username',
    parse: text,
  },
  oidcGroupClaim: {
    description: "the claim listing the groups (a group named in `groups` is an auto-registered user's)",
    defaultText: 'none',
    parse: text,
  },
  oidcAdminGroup: {
    description: 'a value of oidcGroupClaim that signs its holder in as the admin',
    defaultText: 'none',
    parse: text,
  },
  oidcAutoRegister: {
    description: 'register a user on first sign-in (false: only users already registered may sign in)',
    parse: (raw, where) => {
      const value = String(raw);
      if (!['true', 'false', 'on', 'off', 'yes', 'no'].includes(value)) fail(where, 'must be true or false');
      return ['true', 'on', 'yes'].includes(value);
    },
    default: false,
  },
} satisfies Settings;
