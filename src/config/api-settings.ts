// The HTTP API and the web console (docs/admin/http-api.md).
import {isAccountName} from '../users/user-name.js';
import {duration, fail, filePath, listItems, text, type Settings} from './setting.js';

export const API_SETTINGS = {
  apiIdleTimeout: {
    description: 'sandman api exits after this long without a request',
    parse: duration,
    default: '60s',
  },
  apiTokenFile: {
    description:
      'file (mode 0600) holding the bearer token TCP clients of the API present; setup makes one when apiListen is set',
    defaultText: 'none',
    parse: filePath,
  },
  apiAllowedOrigins: {
    description: 'origins (scheme://host[:port], comma-separated) that get CORS headers from the API',
    defaultText: 'none',
    default: '',
    parse: (raw, where) => {
      const items = listItems(raw);
      for (const item of items)
        if (!/^https?:\/\/[a-zA-Z0-9.-]+(:\d{1,5})?$/.test(item))
          fail(where, `${JSON.stringify(item)} is not an origin such as https://portal.example.org`);
      return items;
    },
  },
  apiSocket: {
    description: "the API's unix socket (the .socket unit's ListenStream)",
    parse: filePath,
    default: '/run/sandman/api.sock',
  },
  apiSocketGroup: {
    description: 'group that may use the API socket (mode 0660) and read the state file (0640)',
    default: 'sandman',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (!isAccountName(value)) fail(where, 'must be a group name');
      return value;
    },
  },
  apiListen: {
    description: 'also listen on TCP at host:port (clients then need the bearer token)',
    defaultText: 'none',
    parse: (raw, where) => {
      const value = text(raw, where);
      const match = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|[a-zA-Z0-9.-]+):(\d{1,5})$/.exec(value);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535)
        fail(where, 'must be host:port, e.g. 127.0.0.1:8080');
      return value;
    },
  },
  apiPublicUrl: {
    description:
      'the URL browsers reach the API at (terminal links; https makes the login cookie Secure), e.g. https://gpu1.example.org:8443',
    defaultText: 'from the request',
    parse: (raw, where) => {
      const value = text(raw, where).replace(/\/+$/, '');
      if (!/^https?:\/\/[a-zA-Z0-9.[\]:-]+(\/[^\s?#]*)?$/.test(value))
        fail(where, 'must be an http(s) URL such as https://gpu1.example.org:8443');
      return value;
    },
  },
  apiLoginTtl: {
    description: "how long a browser's login to the web console lasts",
    parse: duration,
    default: '12h',
  },
  terminalLinkTtl: {
    description: 'how long a one-time link (session terminal, user login-link) works unless used, by default',
    parse: duration,
    default: '15m',
  },
} satisfies Settings;
