import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {parseGpuList} from '../../src/gpu/parse-list.js';
import {nodeBridge} from '../../src/swarm/swarm-names.js';
import {nodeFirewallUnits} from '../../src/setup/systemd-units.js';
import {
  daemonJsonWith,
  nodeResources,
  runtimeConfigWith,
  swarmResourceValue,
} from '../../src/swarm/node-setup.js';
import {ROOT} from '../helpers/constants.js';

const capture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/nvidia-smi', name), 'utf8');

describe('node setup', () => {
  it('advertises each MIG device under its profile and whole GPUs as NVIDIA-GPU, from real nvidia-smi -L', () => {
    const mig = nodeResources(parseGpuList(capture('a100-40gb_list-L_mig-ci_r580.txt')));
    expect(mig.map((resource) => resource.kind).sort()).toEqual([
      'NVIDIA-MIG-1c.2g.10gb',
      'NVIDIA-MIG-1c.2g.10gb',
      'NVIDIA-MIG-1g.5gb',
      'NVIDIA-MIG-4g.20gb',
    ]);
    expect(mig.every((resource) => resource.value.startsWith('MIG-'))).toBe(true);
    const whole = nodeResources(parseGpuList(capture('rtx-pro-6000-x8_list-L_no-mig.txt')));
    expect(whole).toHaveLength(8);
    expect(new Set(whole.map((resource) => resource.kind))).toEqual(new Set(['NVIDIA-GPU']));
    // Docker upper-cases the kind in the variable it sets, so swarm-resource names it that way.
    expect(swarmResourceValue(mig)).toBe(
      'DOCKER_RESOURCE_NVIDIA-MIG-1C.2G.10GB,DOCKER_RESOURCE_NVIDIA-MIG-1G.5GB,DOCKER_RESOURCE_NVIDIA-MIG-4G.20GB',
    );
    expect(swarmResourceValue([])).toBeNull();
  });

  it("keeps the operator's daemon.json settings and makes NVIDIA's runtime the default", () => {
    const resources = [{kind: 'NVIDIA-GPU', value: 'GPU-1'}];
    const json = daemonJsonWith(
      '{"log-driver": "journald", "runtimes": {"nvidia": {"path": "/opt/nv"}}}',
      resources,
    );
    expect(json).toEqual({
      'log-driver': 'journald',
      runtimes: {nvidia: {path: '/opt/nv'}},
      'node-generic-resources': ['NVIDIA-GPU=GPU-1'],
      'default-runtime': 'nvidia',
    });
    expect(daemonJsonWith(undefined, [])).toEqual({});
    expect(() => daemonJsonWith('{not json', resources)).toThrow(/daemon.json is not valid JSON/);
  });

  it('sets swarm-resource at the top level of config.toml, replacing the commented default', () => {
    const shipped =
      'disable-require = false\n#swarm-resource = "DOCKER_RESOURCE_GPU"\n\n[nvidia-container-cli]\nldconfig = "@/sbin/ldconfig"\n';
    expect(runtimeConfigWith(shipped, 'DOCKER_RESOURCE_NVIDIA-GPU')).toBe(
      'disable-require = false\nswarm-resource = "DOCKER_RESOURCE_NVIDIA-GPU"\n\n[nvidia-container-cli]\nldconfig = "@/sbin/ldconfig"\n',
    );
    expect(runtimeConfigWith('[nvidia-container-cli]\nx = 1\n', 'V')).toBe(
      'swarm-resource = "V"\n\n[nvidia-container-cli]\nx = 1\n',
    );
    expect(runtimeConfigWith(undefined, 'V')).toBe('swarm-resource = "V"\n');
  });

  it('names each network its own bridge within the 15 characters of an interface name', () => {
    expect(nodeBridge('sandman')).toBe('sm-sandman');
    const [a, b] = [nodeBridge('sandman-test-abc123'), nodeBridge('sandman-test-def456')];
    expect(a).not.toBe(b);
    for (const name of [a, b]) expect(name).toMatch(/^sm-sandma-[0-9a-f]{5}$/);
  });

  it("the node's timer runs the firewall part every minute", () => {
    const units = nodeFirewallUnits(['/usr/bin/node', '/opt/sandman/bin/run.js'], {
      SANDMAN_CONFIG: '/etc/sandman/config.json',
    });
    expect(units['sandman-node-firewall.service']).toContain(
      'ExecStart=/usr/bin/node /opt/sandman/bin/run.js node setup --apply --firewall-only',
    );
    expect(units['sandman-node-firewall.timer']).toMatch(/^OnUnitActiveSec=1min$/m);
  });
});
