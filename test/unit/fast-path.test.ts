import {describe, expect, it} from 'vitest';

import {parseFastInvocation} from '../../cli/fast-path.js';

const parsed = (argv: string[]) => {
  const invocation = parseFastInvocation(argv);
  return invocation && {command: invocation.command.id, flags: invocation.flags};
};

describe('the fast path for reap and session ls', () => {
  it('takes the plain invocations timers and scripts use', () => {
    expect(parsed(['reap'])).toEqual({command: 'reap', flags: {}});
    expect(parsed(['reap', '--dry-run', '--json'])).toEqual({
      command: 'reap',
      flags: {'dry-run': true, json: true},
    });
    expect(parsed(['session', 'ls', '--json'])).toEqual({command: 'session:ls', flags: {json: true}});
    expect(parsed(['session', 'list', '-q', '--user', 'alice'])).toEqual({
      command: 'session:ls',
      flags: {quiet: true, user: 'alice'},
    });
    expect(parsed(['session', 'ls', '--user=bob', '--expired', '--db', '/tmp/s.json'])).toEqual({
      command: 'session:ls',
      flags: {user: 'bob', expired: true, state: '/tmp/s.json'},
    });
    expect(parsed(['reap', '--state=/srv/state.json'])).toEqual({
      command: 'reap',
      flags: {state: '/srv/state.json'},
    });
  });

  it('leaves everything else to oclif', () => {
    for (const argv of [
      [],
      ['session'],
      ['session', 'show', 'alice'],
      ['session:ls'],
      ['session', 'ls', '--help'],
      ['reap', '-h'],
      ['reap', '--verbose'],
      ['reap', 'now'],
      ['reap', '--', '--json'],
      ['reap', '--json', '--json'],
      ['reap', '--json=true'],
      ['session', 'ls', '--user'],
      ['session', 'ls', '--user', '--json'],
      ['session', 'ls', '--user='],
      ['session', 'ls', '--user', 'a', '--user', 'b'],
      ['session', 'ls', '--state', 'a', '--db', 'b'],
      ['session', 'ls', '--dry-run'],
      ['reap', '--expired'],
      ['session', 'ls', '-qq'],
      ['session', 'ls', '--toString'],
      ['session', 'ls', '--constructor'],
    ]) {
      expect(parseFastInvocation(argv), argv.join(' ')).toBeUndefined();
    }
  });
});
