import {isAccountName} from '../users/user-name.js';
import type {Grant} from './web-access.js';

/** The settings that say who a signed-in person is to sandman (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"). */
export interface ClaimRules {
  oidcUserClaim: string;
  oidcGroupClaim?: string;
  oidcAdminGroup?: string;
  oidcAutoRegister: boolean;
  /** The configured groups (`groups`): an auto-registered user joins the first of hers named here. */
  groups: Readonly<Record<string, unknown>>;
}

/**
 * What a sign-in with these claims gives: a login (the admin's when her groups hold
 * oidcAdminGroup, else that registered user's), a registration first (oidcAutoRegister), or a
 * refusal in words for the person at the browser.
 */
export type SignInDecision =
  | {user: string; grant: Grant}
  | {user: string; register: {group: string | null}; grant: Grant}
  | {user?: string; refused: string};

/** A claim's values as a list: a JSON array of strings, or one string. */
export function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** Pure: the decision for `claims`, given the rules and whether a name is a registered user. */
export function signInDecision(
  claims: Readonly<Record<string, unknown>>,
  rules: ClaimRules,
  registered: (user: string) => boolean,
): SignInDecision {
  const name = claims[rules.oidcUserClaim];
  if (typeof name !== 'string' || name === '')
    return {
      refused: `The sign-in gave no "${rules.oidcUserClaim}" claim (oidcUserClaim), so sandman cannot tell who you are: ask the admin.`,
    };
  if (!isAccountName(name))
    return {
      refused: `Your "${rules.oidcUserClaim}" is ${JSON.stringify(name)}, which is not a user name sandman can use: ask the admin.`,
    };
  const groups = rules.oidcGroupClaim ? claimValues(claims[rules.oidcGroupClaim]) : [];
  if (rules.oidcAdminGroup && groups.includes(rules.oidcAdminGroup))
    return {user: name, grant: {kind: 'admin', user: name, via: 'oidc'}};
  const grant: Grant = {kind: 'user', user: name, via: 'oidc'};
  if (registered(name)) return {user: name, grant};
  if (!rules.oidcAutoRegister)
    return {
      user: name,
      refused: `${name} is not a sandman user on this host: ask the admin to register you ("sandman user add ${name}").`,
    };
  const group = groups.find((each) => Object.hasOwn(rules.groups, each)) ?? null;
  return {user: name, register: {group}, grant};
}
