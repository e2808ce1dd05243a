import {describe, expect, it} from 'vitest';

import {SandmanCommand} from '../../cli/base-command.js';
import {FAST_COMMANDS, parseFastInvocation} from '../../cli/fast-path.js';
import Reap from '../../commands/reap.js';
import SessionCreate from '../../commands/session/create.js';
import SessionLs from '../../commands/session/ls.js';

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

  it('takes session create with its user and flags', () => {
    expect(
      parseFastInvocation([
        'session',
        'create',
        '--ttl',
        '2h',
        'alice',
        '--profile=3g.20gb',
        '--env',
        'A=1',
        '--env=B=x=y',
        '--no-wait',
        '--memory',
        '16g',
        '--json',
      ]),
    ).toMatchObject({
      command: {id: 'session:create'},
      args: ['alice'],
      flags: {
        ttl: '2h',
        profile: '3g.20gb',
        env: ['A=1', 'B=x=y'],
        'no-wait': true,
        memory: '16g',
        json: true,
      },
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
      // create: no user (asked for on a terminal), two users, two GPU choices, stdin for the key
      ['session', 'create'],
      ['session', 'create', '--no-gpu'],
      ['session', 'create', 'alice', 'bob'],
      ['session', 'create', 'alice', '--profile', '1g.5gb', '--no-gpu'],
      ['session', 'create', 'alice', '--gpu', '0', '--mig-instance', 'MIG-x'],
      ['session', 'create', 'alice', '--ssh-key', '-'],
      ['session', 'create', 'alice', '--ttl', '1h', '--ttl', '2h'],
      ['session', 'create', 'alice', '--env'],
      ['session', 'create', '-alice'],
    ]) {
      expect(parseFastInvocation(argv), argv.join(' ')).toBeUndefined();
    }
  });
});

describe('the fast path flag tables', () => {
  // What each fast command accepts must be exactly what its oclif command declares: the same
  // names, aliases and short forms, each a boolean or a value as there, with no defaults the fast
  // path would not know about. A flag added to the oclif command fails this until the fast path
  // learns it (until then the fast path would hand such invocations to oclif, which is safe).
  it.each([
    ['session:ls', SessionLs],
    ['reap', Reap],
    ['session:create', SessionCreate],
  ] as const)('%s matches its oclif command', (id, command) => {
    const flags = {...SandmanCommand.baseFlags, ...command.flags} as Record<string, OclifFlag>;
    const expected = {
      booleans: {'--json': 'json'} as Record<string, string>,
      values: {} as Record<string, string>,
      multiple: [] as string[],
      exclusive: [] as string[],
    };
    for (const [name, flag] of Object.entries(flags)) {
      const table = flag.type === 'boolean' ? expected.booleans : expected.values;
      table[`--${name}`] = name;
      for (const alias of flag.aliases ?? []) table[`--${alias}`] = name;
      if (flag.char) table[`-${flag.char}`] = name;
      if (flag.multiple) expected.multiple.push(name);
      if (flag.exclusive) expected.exclusive = [...new Set([...expected.exclusive, name, ...flag.exclusive])];
      expect(flag.default, `${id} --${name} has a default`).toBeUndefined();
      expect(flag.allowNo ?? false, `${id} --${name} allows --no-`).toBe(false);
    }
    const fast = FAST_COMMANDS[id]!;
    expect({
      booleans: fast.booleans,
      values: fast.values,
      multiple: fast.multiple ?? [],
      exclusive: [...(fast.exclusive ?? [])].sort(),
    }).toEqual({...expected, exclusive: expected.exclusive.sort()});
    // The fast path takes exactly as many arguments as the command has, and only when all are given.
    expect(fast.args ?? 0).toBe(Object.keys(command.args ?? {}).length);
  });
});

interface OclifFlag {
  type: 'boolean' | 'option';
  char?: string;
  aliases?: string[];
  default?: unknown;
  multiple?: boolean;
  exclusive?: string[];
  allowNo?: boolean;
}
