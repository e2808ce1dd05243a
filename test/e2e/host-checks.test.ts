import {mkdir, readFile, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {editState, PAST} from '../helpers/state-file.js';

interface Check {
  name: string;
  status: string;
  detail: string;
  hint: string;
}

let sandbox: Sandbox;
let unitDir: string;
beforeAll(async () => {
  sandbox = createSandbox({portStart: 32_400});
  unitDir = path.join(sandbox.dir, 'units');
});
afterAll(async () => {
  await sandbox.cleanup();
});

describe('systemd units', () => {
  it('systemd print gives a oneshot service and a minutely persistent timer', async () => {
    const {exitCode, body} = await sandbox.json<{units: Record<string, string>; cron: string}>([
      'systemd',
      'print',
    ]);
    expect(exitCode).toBe(0);
    expect(body.units['sandman-reap.service']).toMatch(/^Type=oneshot$/m);
    expect(body.units['sandman-reap.service']).toMatch(/^ExecStart=\S+node \S+\/bin\/run\.js reap$/m);
    expect(body.units['sandman-reap.timer']).toMatch(/^OnUnitActiveSec=1min$/m);
    expect(body.units['sandman-reap.timer']).toMatch(/^Persistent=true$/m);
    // The cron line carries the environment the units carry (the sandbox's SANDMAN_* settings).
    expect(body.cron).toMatch(/^\* \* \* \* \* root env SANDMAN_CONFIG=\S+ .* \S+ \S+run\.js reap /);
    // The environment's settings travel into the unit, so the timer reaps the same state file.
    expect(body.units['sandman-reap.service']).toContain(
      `Environment=SANDMAN_STATE_FILE=${sandbox.stateFile}`,
    );
  });

  it('systemd install writes units that pass systemd-analyze verify', async () => {
    const {exitCode, body} = await sandbox.json<{files: string[]}>(['systemd', 'install', '--dir', unitDir]);
    expect(exitCode).toBe(0);
    expect(body.files.map((file) => path.basename(file)).sort()).toEqual([
      'sandman-reap.service',
      'sandman-reap.timer',
    ]);
    const verify = await execa('systemd-analyze', ['verify', ...body.files], {reject: false});
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  it('systemd install --api writes a socket and a service that pass systemd-analyze verify', async () => {
    const apiDir = path.join(unitDir, 'api');
    const {exitCode, body} = await sandbox.json<{files: string[]}>(
      ['systemd', 'install', '--api', '--dir', apiDir],
      {
        env: {SANDMAN_API_LISTEN: '127.0.0.1:8080'},
      },
    );
    expect(exitCode).toBe(0);
    expect(body.files.map((file) => path.basename(file)).sort()).toEqual([
      'sandman-api.service',
      'sandman-api.socket',
    ]);
    const socket = await readFile(path.join(apiDir, 'sandman-api.socket'), 'utf8');
    expect(socket).toMatch(/^ListenStream=\/run\/sandman\/api\.sock$/m);
    expect(socket).toMatch(/^SocketMode=0660$/m);
    expect(socket).toMatch(/^ListenStream=127\.0\.0\.1:8080$/m);
    expect(await readFile(path.join(apiDir, 'sandman-api.service'), 'utf8')).toMatch(
      /^ExecStart=\S+ \S+run\.js api$/m,
    );
    const verify = await execa('systemd-analyze', ['verify', ...body.files], {reject: false});
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  it('systemd install --gateway writes an accepting socket and a service template that pass systemd-analyze verify', async () => {
    const gatewayDir = path.join(unitDir, 'gateway');
    const {exitCode, body} = await sandbox.json<{files: string[]}>(
      ['systemd', 'install', '--gateway', '--dir', gatewayDir],
      {env: {SANDMAN_GATEWAY_PORT: '2222', SANDMAN_GATEWAY_MAX_CONNECTIONS_PER_SOURCE: '12'}},
    );
    expect(exitCode).toBe(0);
    expect(body.files.map((file) => path.basename(file)).sort()).toEqual([
      'sandman-gateway.socket',
      'sandman-gateway@.service',
    ]);
    const socket = await readFile(path.join(gatewayDir, 'sandman-gateway.socket'), 'utf8');
    expect(socket).toMatch(/^ListenStream=2222$/m);
    expect(socket).toMatch(/^Accept=yes$/m);
    expect(socket).toMatch(/^MaxConnectionsPerSource=12$/m);
    expect(await readFile(path.join(gatewayDir, 'sandman-gateway@.service'), 'utf8')).toMatch(
      /^ExecStart=\S+ \S+run\.js gateway$/m,
    );
    // A template is verified through an instance of it, as systemd starts one per connection.
    const instance = path.join(gatewayDir, 'sandman-gateway@1.service');
    await symlink(path.join(gatewayDir, 'sandman-gateway@.service'), instance);
    const verify = await execa(
      'systemd-analyze',
      ['verify', path.join(gatewayDir, 'sandman-gateway.socket'), instance],
      {
        reject: false,
      },
    );
    expect(verify.stderr).toBe('');
    expect(verify.exitCode).toBe(0);
  });
});

describe('metrics file', () => {
  it('is rewritten by create, rm and reap, and passes promtool check metrics', async () => {
    const metricsFile = path.join(sandbox.dir, 'metrics', 'sandman.prom');
    const env = {...fakeGpuEnv(sandbox.dir, 'a100-mig-r580'), SANDMAN_METRICS_FILE: metricsFile};
    const created = await sandbox.json<{session_id: string}>(
      ['session', 'create', 'meter', '--profile', '1g.5gb', '--no-wait'],
      {env},
    );
    expect(created.exitCode).toBe(0);
    let text = await readFile(metricsFile, 'utf8');
    expect(text).toMatch(/^sandman_sessions\{status="running"\} 1$/m);
    expect(text).toMatch(/^sandman_gpu_slices\{profile="1g.5gb",state="held"\} 1$/m);
    expect(text).toMatch(/^sandman_gpu_slices\{profile="1c.2g.10gb",state="free"\} 2$/m);
    expect(text).toMatch(/^sandman_sessions_created_total 1$/m);

    await editState(sandbox.stateFile, (state) => {
      state.sessions[0]!.expires_at = PAST;
    });
    expect((await sandbox.run(['reap'], {env})).exitCode).toBe(0);
    text = await readFile(metricsFile, 'utf8');
    expect(text).toMatch(/^sandman_sessions\{status="running"\} 0$/m);
    expect(text).toMatch(/^sandman_sessions_reaped_total 1$/m);
    expect(text).toMatch(/^sandman_gpu_slices\{profile="1g.5gb",state="free"\} 1$/m);
    expect(text).toMatch(/^sandman_last_reap_timestamp_seconds \d{10}/m);
    expect(text).toMatch(/^sandman_last_reap_duration_seconds [\d.]+$/m);

    const promtool = await execa('promtool', ['check', 'metrics'], {input: text, reject: false});
    expect(promtool.stdout + promtool.stderr).toBe('');
    expect(promtool.exitCode).toBe(0);
  });
});

describe('audit log', () => {
  it('has one line per create, extend, rm and reap action, with the actor', async () => {
    const audit = path.join(sandbox.dir, 'audit.jsonl');
    const before = (await readFile(audit, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
    const env = {SUDO_USER: 'opsalice'};
    const created = await sandbox.json<{session_id: string}>(
      ['session', 'create', 'audited', '--no-gpu', '--no-wait'],
      {env},
    );
    expect((await sandbox.run(['session', 'extend', 'audited', '--ttl', '10m'], {env})).exitCode).toBe(0);
    expect((await sandbox.run(['session', 'create', 'audited', '--no-gpu'], {env})).exitCode).toBe(4);
    expect((await sandbox.run(['session', 'rm', 'audited'], {env})).exitCode).toBe(0);
    const lines = (await readFile(audit, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .slice(before)
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.action, line.result, line.actor, line.user])).toEqual([
      ['create', 'ok', 'opsalice', 'audited'],
      ['extend', 'ok', 'opsalice', 'audited'],
      ['create', 'failed', 'opsalice', 'audited'],
      ['rm', 'ok', 'opsalice', 'audited'],
    ]);
    expect(lines[0].session).toBe(created.body.session_id);
    expect(lines[0].time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('sandman doctor', () => {
  it('passes on a healthy host with the reaper installed, warning about what is optional', async () => {
    // Healthy: the reaper runs (doctor warns when no reap ran lately, test/e2e/reap-heartbeat).
    const reaped = await sandbox.run(['reap']);
    expect(reaped.exitCode, reaped.stdout + reaped.stderr).toBe(0);
    const result = await sandbox.json<{checks: Check[]}>(['doctor', '--unit-dir', unitDir]);
    expect(result.exitCode).toBe(0);
    const status = Object.fromEntries(result.body.checks.map((check) => [check.name, check.status]));
    expect(status).toMatchObject({
      'docker engine': 'ok',
      image: 'ok',
      'state file': 'ok',
      'port range': 'ok',
      reaper: 'ok',
      'nvidia-smi': 'warn',
    });
    const withGpus = await sandbox.json<{checks: Check[]}>(['doctor', '--unit-dir', unitDir], {
      env: fakeGpuEnv(sandbox.dir, 'h100-mig-masked'),
    });
    expect(withGpus.body.checks.find((check) => check.name === 'nvidia-smi')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('MIG on GPU 0 with 4 device(s)'),
    });
  });

  it('fails without a reaper, and explains how to recover a corrupt state file', async () => {
    const other = createSandbox({portStart: 32_450, portCount: 5});
    try {
      await mkdir(path.dirname(other.stateFile), {recursive: true});
      await writeFile(other.stateFile, '{"version": 1, "sessions": [');
      const result = await other.json<{ok: boolean; checks: Check[]}>([
        'doctor',
        '--unit-dir',
        path.join(other.dir, 'none'),
      ]);
      expect(result.exitCode).toBe(1);
      expect(result.body.ok).toBe(false);
      const checks = Object.fromEntries(result.body.checks.map((check) => [check.name, check]));
      expect(checks['state file']).toMatchObject({
        status: 'fail',
        detail: expect.stringContaining('is not valid JSON'),
      });
      expect(checks['state file']!.hint).toContain('never overwrites it');
      expect(checks['state file']!.hint).toContain(`mv ${other.stateFile} ${other.stateFile}.broken`);
      expect(checks.reaper).toMatchObject({
        status: 'fail',
        hint: expect.stringContaining('sandman systemd install'),
      });
      const human = await other.run(['doctor']);
      expect(human.stdout).toMatch(/^state file\s+fail\s+/m);
      expect(human.stderr).toContain('check(s) failed');
    } finally {
      await other.cleanup();
    }
  });

  it('fails when the Docker engine is unreachable', async () => {
    const result = await sandbox.json<{ok: boolean; checks: Check[]}>(['doctor', '--unit-dir', unitDir], {
      env: {DOCKER_HOST: 'unix:///nonexistent/docker.sock'},
    });
    expect(result.exitCode).toBe(1);
    expect(result.body.ok).toBe(false);
    expect(result.body.checks[0]).toMatchObject({name: 'docker engine', status: 'fail'});
  });
});
