// Apps in sessions, proxied by the API (docs/admin/apps.md).
import {integerIn, type Settings} from './setting.js';

export const APP_SETTINGS = {
  appPorts: {
    description:
      'ports of a session that its user and the admin may open in the browser at {apiPublicUrl}/s/ID/port/N/, e.g. 8000,6006',
    defaultText: 'none',
    default: '',
    parse: (raw, where) => {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      const ports = items.map((item) => item.trim()).filter((item) => item !== '' && item !== 'none');
      return [...new Set(ports.map((item) => integerIn(1, 65535)(item, where)))];
    },
  },
} satisfies Settings;
