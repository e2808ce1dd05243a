/**
 * The in-session `sandman` command's words (docs/admin/sessions.md "The in-session command"): its arguments, parsed on
 * the host (the client in the session only sends them). Pure.
 */
import {parseDuration} from '../core/duration.js';
import {invalidInput} from '../core/errors.js';
import {parseSelfJobArgs, SELF_JOB_HELP, type SelfJobCommand} from './self-job-commands.js';

export type SelfCommand =
  | {name: 'help'}
  | {name: 'status'}
  | {name: 'extend'; ttl: string}
  | {name: 'extend'; until: number}
  | {name: 'keep'; milliseconds: number}
  | {name: 'stop'}
  | {name: 'web'}
  | SelfJobCommand;

export interface SelfRequest {
  command: SelfCommand;
  json: boolean;
}

export const SELF_HELP = `sandman: your session, from inside it

Usage:
  sandman status [--json]            this session: time left, GPU, idleness, budget, queue, disk
  sandman extend DURATION [--json]   push the expiry out (2h, 90m), within your limits
  sandman extend --until TIME        until TIME (18:00 is UTC; or 2026-12-07T18:00Z)
  sandman keep DURATION [--json]     no stop for idleness until then (at most your userMaxKeep)
  sandman stop                       stop it now: the GPU goes back, container and home are kept
  sandman web                        a one-time link that logs you into the web console
${SELF_JOB_HELP}
Exit codes: 0 ok, 2 invalid input, 3 not found, 4 conflict, 8 refused by your limits.
`;

/** The client's argv (its own `sandman ARGS…`) as a request; an unknown word is exit 2. */
export function parseSelfArgs(argv: readonly string[], now: number): SelfRequest {
  // A job's command (after --) is its own: a --json there is not sandman's.
  const cut = argv.indexOf('--');
  const own = cut < 0 ? argv : argv.slice(0, cut);
  const json = own.includes('--json');
  const words = [...own.filter((word) => word !== '--json'), ...(cut < 0 ? [] : argv.slice(cut))];
  const [name, ...rest] = words;
  const none = (command: SelfCommand): SelfCommand => {
    if (rest.length > 0) throw invalidInput(`sandman ${name} takes no arguments (got ${rest.join(' ')})`);
    return command;
  };
  let command: SelfCommand;
  switch (name) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      command = {name: 'help'};
      break;
    case 'status':
      command = none({name: 'status'});
      break;
    case 'stop':
      command = none({name: 'stop'});
      break;
    case 'web':
      command = none({name: 'web'});
      break;
    case 'extend':
      if (rest[0] === '--until' && rest.length === 2)
        command = {name: 'extend', until: parseUntil(rest[1]!, now)};
      else if (rest.length === 1 && !rest[0]!.startsWith('-')) {
        parseDuration(rest[0]!, 'duration');
        command = {name: 'extend', ttl: rest[0]!};
      } else throw invalidInput('usage: sandman extend DURATION | --until TIME (e.g. sandman extend 2h)');
      break;
    case 'keep':
      if (rest.length !== 1) throw invalidInput('usage: sandman keep DURATION (e.g. sandman keep 6h)');
      command = {name: 'keep', milliseconds: parseDuration(rest[0]!, 'duration')};
      break;
    case 'job':
      command = parseSelfJobArgs(rest);
      break;
    default:
      throw invalidInput(`unknown command ${JSON.stringify(name)}: see sandman --help`);
  }
  return {command, json};
}

/** `18:00` (UTC: the next such time) or an ISO date-time with a zone; epoch milliseconds. */
export function parseUntil(text: string, now: number): number {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (clock) {
    const [hours, minutes] = [Number(clock[1]), Number(clock[2])];
    if (hours > 23 || minutes > 59) throw invalidInput(`invalid time ${JSON.stringify(text)}: HH:MM (UTC)`);
    const day = new Date(now);
    day.setUTCHours(hours, minutes, 0, 0);
    const at = day.getTime();
    return at > now ? at : at + 86_400_000;
  }
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(Z|[+-]\d\d:\d\d)$/.test(text)) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) return at;
  }
  throw invalidInput(
    `invalid time ${JSON.stringify(text)}: HH:MM (UTC, the next such time) or e.g. 2026-12-07T18:00Z`,
  );
}
