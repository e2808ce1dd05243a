// How sessions' SSH servers are published.
import {isIP} from 'node:net';

import {fail, port, text, type Settings} from './setting.js';

const HOST_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export const SSH_SETTINGS = {
  sshPortStart: {
    description: 'first host port for session SSH servers',
    flag: 'ssh-port-start',
    parse: port,
    default: 10000,
  },
  sshPortEnd: {
    description: 'last host port for session SSH servers',
    flag: 'ssh-port-end',
    parse: port,
    default: 20000,
  },
  sshHost: {
    description: 'host name printed in connection details',
    defaultText: "this host's FQDN",
    flag: 'ssh-host',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (!HOST_NAME.test(value) && isIP(value) === 0) fail(where, 'must be a host name or IP address');
      return value;
    },
  },
  bindAddress: {
    description: 'host address the SSH ports are published on',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (isIP(value) === 0) fail(where, 'must be an IPv4 or IPv6 address');
      return value;
    },
    default: '0.0.0.0',
  },
} satisfies Settings;
