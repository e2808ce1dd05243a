// The SSH gateway (docs/admin/gateway.md "The SSH gateway").
import {duration, fail, integerIn, type Settings} from './setting.js';

export const GATEWAY_SETTINGS = {
  gatewayPort: {
    description: "port of the SSH gateway: ssh -p PORT USER@host reaches (and starts) that user's session",
    parse: integerIn(1, 65535),
    default: 2200,
  },
  gatewayLoginTimeout: {
    description: 'a gateway connection that has not logged in after this long is dropped',
    parse: duration,
    default: '30s',
  },
  gatewayMaxConnectionsPerSource: {
    description: 'gateway connections at once from one client address',
    parse: integerIn(1, 65535),
    default: 64,
  },
  directPorts: {
    description: "publish each session's own SSH port; false: sessions are reached through the gateway only",
    parse: (raw, where) => {
      const value = String(raw);
      if (!['true', 'false', 'on', 'off', 'yes', 'no'].includes(value)) fail(where, 'must be true or false');
      return ['true', 'on', 'yes'].includes(value);
    },
    default: true,
  },
} satisfies Settings;
