// The firewall rules around sessions (docs/admin/network.md).
import {isIP} from 'node:net';

import {fail, integerIn, listItems, oneOf, type Settings} from './setting.js';

export const NETWORK_SETTINGS = {
  networkPolicy: {
    description: 'firewall rules that keep sessions away from the host, link-local addresses and each other',
    parse: oneOf(['on', 'off'], 'must be "on" or "off"'),
    default: 'on',
  },
  hostAllow: {
    description: 'host ports sessions may still reach, e.g. 53,3128',
    defaultText: 'none',
    default: '',
    parse: (raw, where) => {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      const ports = items.map((item) => item.trim()).filter((item) => item !== '' && item !== 'none');
      return [...new Set(ports.map((item) => integerIn(1, 65535)(item, where)))];
    },
  },
  egress: {
    description: 'where sessions may connect beyond the host: open, none, or a list of CIDRs',
    parse: (raw, where) => {
      if (raw === 'open' || raw === 'none') return raw;
      const items = listItems(raw);
      if (items.length === 0) fail(where, 'must be "open", "none" or a comma-separated list of CIDRs');
      return items.map(
        (item) =>
          canonicalCidr(item) ?? fail(where, `${JSON.stringify(item)} is not a CIDR such as 10.0.0.0/8`),
      );
    },
    default: 'open',
  },
} satisfies Settings;

/** `10.1.2.3/8` → `10.0.0.0/8`, `10.1.2.3` → `10.1.2.3/32`, as iptables shows them; undefined if invalid. */
export function canonicalCidr(text: string): string | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  if (family === 6) return `${address.toLowerCase()}/${prefix}`;
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const network = prefix === 0 ? 0 : Math.floor(value / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefix}`;
}
