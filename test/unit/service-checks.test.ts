import {describe, expect, it} from 'vitest';

import {loadConfig} from '../../src/config/config.js';
import {serviceChecks} from '../../src/setup/service-checks.js';
import {FakeHostFiles} from '../fakes/fake-host.js';

const DIR = '/etc/systemd/system';
const TOKEN = '/etc/sandman/api-token';
const config = (values: Record<string, unknown>) =>
  loadConfig({env: {}, readFile: () => JSON.stringify(values)});

/** A host where setup installed the API's and the gateway's units into systemd's directory. */
function host(): FakeHostFiles {
  const files = new FakeHostFiles();
  for (const unit of [
    'sandman-api.socket',
    'sandman-api.service',
    'sandman-gateway.socket',
    'sandman-gateway@.service',
  ])
    files.files.set(`${DIR}/${unit}`, {text: '[Unit]\n', mode: 0o644});
  files.files.set(TOKEN, {text: 'x'.repeat(43) + '\n', mode: 0o600});
  for (const socket of ['sandman-api.socket', 'sandman-gateway.socket'])
    files.units.set(socket, {enabled: 'enabled', active: 'active'});
  return files;
}

const check = (files: FakeHostFiles, values: Record<string, unknown> = {}) =>
  serviceChecks({
    config: config({apiListen: '127.0.0.1:8080', apiTokenFile: TOKEN, ...values}),
    files,
    place: {kind: 'systemd', dir: DIR},
    gateway: true,
    tokenFile: TOKEN,
  });

describe("doctor's API and gateway checks on a systemd host", () => {
  it('pass when the token is 0600 and both sockets are enabled and listening', async () => {
    expect((await check(host())).map(({name, status}) => [name, status])).toEqual([
      ['api token', 'ok'],
      ['api units', 'ok'],
      ['gateway units', 'ok'],
    ]);
  });

  it('fail a token others can read, and a socket disabled or not listening, with the command that fixes it', async () => {
    const files = host();
    files.files.set(TOKEN, {text: 'x'.repeat(43), mode: 0o644});
    files.units.set('sandman-gateway.socket', {enabled: 'disabled', active: 'inactive'});
    const checks = await check(files);
    expect(checks[0]).toMatchObject({
      name: 'api token',
      status: 'fail',
      hint: `chmod 600 ${TOKEN} (sandman setup does it)`,
    });
    expect(checks[0]!.detail).toContain('is mode 644');
    expect(checks[2]).toMatchObject({
      name: 'gateway units',
      status: 'fail',
      detail: 'sandman-gateway.socket is disabled and inactive: nothing answers',
      hint: 'systemctl enable --now sandman-gateway.socket',
    });
  });

  it('say nothing of services nobody asked for', async () => {
    const files = new FakeHostFiles();
    const checks = await serviceChecks({
      config: config({}),
      files,
      place: {kind: 'systemd', dir: DIR},
      gateway: false,
      tokenFile: undefined,
    });
    expect(checks).toEqual([]);
  });
});
