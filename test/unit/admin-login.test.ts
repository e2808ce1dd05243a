import {describe, expect, it} from 'vitest';

import {dockerEndpoints} from '../../src/runtime/docker/docker-runtime.js';
import {swarmEndpoints} from '../../src/runtime/swarm/swarm-runtime.js';
import {adminLogin} from '../../src/session/admin-login.js';
import {sessionRecord} from '../helpers/state-file.js';

/** How `sandman ssh` logs in (docs/admin/gateway.md): sandman's relay key first, whatever the user's keys. */
const deps = (backend: 'docker' | 'swarm' = 'docker') => ({
  endpoints:
    backend === 'swarm'
      ? swarmEndpoints
      : dockerEndpoints(
          {bindAddress: '0.0.0.0', network: 'sandman'},
          // The engine's one answer this needs: the container's address on the sessions network.
          {
            listContainers: async () => [
              {
                id: 'c1',
                name: 'sandman-alice-s1',
                labels: {},
                state: 'running',
                addresses: {sandman: '172.30.0.5'},
              },
            ],
          },
        ),
  relayKeyFile: async () => '/var/lib/sandman/gateway/relay_ed25519',
});

describe('sandman ssh login', () => {
  it('uses the relay key at the container address when the session accepts it, even with a key of its own', async () => {
    const session = sessionRecord({
      id: 's1',
      user: 'alice',
      gateway_key: 'from="172.30.0.1" ssh-ed25519 AAAA sandman-gateway',
      ssh_private_key_path: '/var/lib/sandman/keys/s1',
    });
    expect(await adminLogin(deps(), session)).toEqual({
      identityFile: '/var/lib/sandman/gateway/relay_ed25519',
      host: '172.30.0.5',
      port: 22,
    });
  });

  it('without the relay key: the generated key at the published port; none at all says how to fix it', async () => {
    const older = sessionRecord({id: 's1', user: 'alice', ssh_port: 10001, ssh_private_key_path: '/k/s1'});
    expect(await adminLogin(deps(), older)).toEqual({identityFile: '/k/s1', host: '127.0.0.1', port: 10001});
    // Swarm mode has no relay line: the node's port.
    const swarm = {...older, ssh_host: 'node2', gateway_key: 'x'};
    expect(await adminLogin(deps('swarm'), swarm)).toEqual({
      identityFile: '/k/s1',
      host: 'node2',
      port: 10001,
    });
    const ownKeysOnly = sessionRecord({id: 's1', user: 'alice'});
    await expect(adminLogin(deps(), ownKeysOnly)).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining('"sandman session extend s1 --ttl 1m" (or a stop and start)'),
    });
  });
});
