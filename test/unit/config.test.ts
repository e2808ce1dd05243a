import {describe, expect, expectTypeOf, it} from 'vitest';

import {
  envName,
  isImageReference,
  loadConfig,
  SETTINGS,
  type Config,
  type GroupLimits,
  type IdRange,
} from '../../src/config/config.js';

const noFile = (file: string): string => {
  throw Object.assign(new Error(`ENOENT: ${file}`), {code: 'ENOENT'});
};
const fileWith = (values: unknown) => () => JSON.stringify(values);

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({env: {}, readFile: noFile});
    expect(config).toMatchObject({
      stateFile: '/var/lib/sandman/state.json',
      workspaceRoot: '/srv/workspaces',
      sshPortStart: 10000,
      sshPortEnd: 20000,
      bindAddress: '0.0.0.0',
      image: 'sandman/workspace:latest',
      network: 'sandman',
      defaultTtl: 60 * 60_000,
      maxTtl: 7 * 86_400_000,
      defaultProfile: '3g.20gb',
      migMode: 'pool',
      pids: 1024,
      auditLog: '/var/log/sandman/audit.jsonl',
      nvidiaSmi: 'nvidia-smi',
    });
    expect(config.cpus).toBeUndefined();
    expect(config.memory).toBeUndefined();
    expect(config.sshHost).toBeUndefined();
  });

  it('takes flags over environment over config file over defaults', () => {
    const readFile = fileWith({
      sshPortStart: 11000,
      sshPortEnd: 12000,
      image: 'file/image:1',
      network: 'filenet',
    });
    const env = {
      SANDMAN_SSH_PORT_START: '11500',
      SANDMAN_IMAGE: 'env/image:2',
      SANDMAN_CONFIG: '/etc/x.json',
    };
    const config = loadConfig({env, readFile, flags: {image: 'flag/image:3'}});
    expect(config.image).toBe('flag/image:3');
    expect(config.sshPortStart).toBe(11500);
    expect(config.sshPortEnd).toBe(12000);
    expect(config.network).toBe('filenet');
    expect(config.workspaceRoot).toBe('/srv/workspaces');
  });

  it('names the setting and where it came from when a value is invalid', () => {
    expect(() => loadConfig({env: {SANDMAN_SSH_PORT_START: '80'}, readFile: noFile})).toThrow(
      /sshPortStart="80" \(from environment SANDMAN_SSH_PORT_START\).*1024 and 65535/,
    );
    expect(() =>
      loadConfig({env: {SANDMAN_CONFIG: '/c.json'}, readFile: fileWith({migMode: 'magic'})}),
    ).toThrow(/migMode="magic" \(from config file \/c.json\)/);
    expect(() =>
      loadConfig({env: {}, readFile: noFile, flags: {memory: 'lots'}, flagNames: {memory: '--memory'}}),
    ).toThrow(/from flag --memory/);
  });

  it('refuses a reversed port range, naming both ends', () => {
    expect(() =>
      loadConfig({env: {SANDMAN_SSH_PORT_START: '20000', SANDMAN_SSH_PORT_END: '10000'}, readFile: noFile}),
    ).toThrow(
      expect.objectContaining({exitCode: 2, message: expect.stringMatching(/sshPortStart.*sshPortEnd/)}),
    );
  });

  it('refuses a config file that is not JSON, not an object, or has unknown keys', () => {
    const env = {SANDMAN_CONFIG: '/etc/sandman/c.json'};
    expect(() => loadConfig({env, readFile: () => '{nope'})).toThrow(/c.json is not valid JSON/);
    expect(() => loadConfig({env, readFile: () => '[1]'})).toThrow(/JSON object/);
    expect(() => loadConfig({env, readFile: fileWith({statefile: '/x'})})).toThrow(
      /unknown setting "statefile"/,
    );
  });

  it('requires a config file named by SANDMAN_CONFIG to exist, but not the default one', () => {
    expect(() => loadConfig({env: {SANDMAN_CONFIG: '/missing.json'}, readFile: noFile})).toThrow(
      /cannot read config file/,
    );
    expect(() => loadConfig({env: {}, readFile: noFile})).not.toThrow();
  });

  it.each([
    ['SANDMAN_IMAGE', 'my image:latest'],
    ['SANDMAN_IMAGE', 'UPPER/case'],
    ['SANDMAN_BIND_ADDRESS', '999.1.1.1'],
    ['SANDMAN_NETWORK', 'bad/net'],
    ['SANDMAN_DEFAULT_TTL', '0'],
    ['SANDMAN_MAX_TTL', 'forever'],
    ['SANDMAN_PIDS', '-1'],
    ['SANDMAN_CPUS', 'many'],
    ['SANDMAN_SSH_HOST', 'bad host'],
    ['SANDMAN_STATE_FILE', 'line\nbreak'],
  ])('refuses %s=%j with exit 2', (variable, value) => {
    expect(() => loadConfig({env: {[variable]: value}, readFile: noFile})).toThrow(
      expect.objectContaining({exitCode: 2, message: expect.stringContaining(variable)}),
    );
  });

  it('sets every setting with a default and leaves the others unset, typed by their parsers', () => {
    const config = loadConfig({env: {}, readFile: noFile});
    for (const [name, definition] of Object.entries(SETTINGS))
      expect(name in config, name).toBe(definition.default !== undefined);
    // Config is derived from the table (tsc checks these): the parser's result, optional without a default.
    expectTypeOf(config.backend).toEqualTypeOf<'docker' | 'swarm'>();
    expectTypeOf(config.uidRange).toEqualTypeOf<IdRange>();
    expectTypeOf(config.groups).toEqualTypeOf<Record<string, GroupLimits>>();
    expectTypeOf<Config['cpus']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Config>().not.toHaveProperty('nope');
  });

  it('derives environment variable names from setting names', () => {
    expect(envName('stateFile')).toBe('SANDMAN_STATE_FILE');
    expect(envName('sshPortStart')).toBe('SANDMAN_SSH_PORT_START');
    expect(envName('nvidiaSmi')).toBe('SANDMAN_NVIDIA_SMI');
  });
});

describe('isImageReference', () => {
  it.each([
    'sandman/workspace:latest',
    'nvidia/cuda:12.6.3-runtime-ubuntu24.04',
    'debian',
    'localhost:5000/team/ws:v1',
    'registry.example.org/ws@sha256:' + 'a'.repeat(64),
    'sha256:' + 'b'.repeat(64),
  ])('accepts %j', (reference) => {
    expect(isImageReference(reference)).toBe(true);
  });

  it.each([
    '',
    'my image',
    'UPPER/case',
    'a//b',
    'ws:',
    'ws:bad tag',
    '-ws',
    'ws@sha256:short',
    'a;rm -rf /',
  ])('refuses %j', (reference) => {
    expect(isImageReference(reference)).toBe(false);
  });
});
