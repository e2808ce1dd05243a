// The researcher's own sandman inside her session (docs/admin/sessions.md "The in-session command").
import {durationOrZero, integerIn, type Settings} from './setting.js';

export const SELF_SETTINGS = {
  selfServicePort: {
    description:
      "port of the in-session listener (sandman self-serve) on the sessions network's gateway address; 0: off",
    parse: integerIn(0, 65535),
    default: 2201,
  },
  userMaxKeep: {
    description:
      'longest `sandman keep` a user may ask for inside her session (no idle stop until then); 0: not allowed',
    parse: durationOrZero,
    default: '8h',
  },
} satisfies Settings;
