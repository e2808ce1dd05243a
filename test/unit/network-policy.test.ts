import {describe, expect, it} from 'vitest';

import {canonicalCidr, loadConfig} from '../../src/config/config.js';
import {chainNames, firewallPlan} from '../../src/network/network-policy.js';
import {fakeWorld} from '../fakes/world.js';

describe('the firewall plan', () => {
  const policy = {
    bridge: 'br-0123456789ab',
    hostAllow: [53],
    egress: 'open' as const,
    id: 'ec142aaa99887766',
  };

  it('drops sessions’ traffic to the host but for hostAllow, and link-local traffic; egress open', () => {
    expect(firewallPlan(policy, 4, 'DOCKER-USER')).toEqual({
      chains: {
        'SANDMAN-IN-ec142aaa': [
          '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
          '-p tcp -m tcp --dport 53 -j RETURN',
          '-p udp -m udp --dport 53 -j RETURN',
          '-j DROP',
        ],
        'SANDMAN-FWD-ec142aaa': [
          '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN',
          '-d 169.254.0.0/16 -j DROP',
          '-j RETURN',
        ],
      },
      hooks: [
        {from: 'INPUT', rule: '-i br-0123456789ab -j SANDMAN-IN-ec142aaa'},
        {from: 'DOCKER-USER', rule: '-i br-0123456789ab -j SANDMAN-FWD-ec142aaa'},
      ],
    });
  });

  it('egress none drops everything else; a CIDR list lets each family reach its own networks', () => {
    expect(
      firewallPlan({...policy, egress: 'none'}, 4, 'DOCKER-USER').chains['SANDMAN-FWD-ec142aaa']?.at(-1),
    ).toBe('-j DROP');
    const listed = {...policy, egress: ['10.0.0.0/8', '2001:db8::/32']};
    expect(firewallPlan(listed, 4, 'DOCKER-USER').chains['SANDMAN-FWD-ec142aaa']?.slice(2)).toEqual([
      '-d 10.0.0.0/8 -j RETURN',
      '-j DROP',
    ]);
    expect(firewallPlan(listed, 6, 'FORWARD').chains['SANDMAN-FWD-ec142aaa']?.slice(1)).toEqual([
      '-d fe80::/10 -j DROP',
      '-d 2001:db8::/32 -j RETURN',
      '-j DROP',
    ]);
    expect(chainNames(policy.id)).toEqual({
      input: 'SANDMAN-IN-ec142aaa',
      forward: 'SANDMAN-FWD-ec142aaa',
      self: 'SANDMAN-SELF-ec142aaa',
    });
  });
});

describe('the network settings', () => {
  const load = (env: Record<string, string>) => loadConfig({env, readFile: () => '{}'});

  it('read hostAllow and egress as iptables shows them', () => {
    expect(load({SANDMAN_HOST_ALLOW: '53, 3128,53'}).hostAllow).toEqual([53, 3128]);
    expect(load({}).hostAllow).toEqual([]);
    expect(load({}).egress).toBe('open');
    expect(load({SANDMAN_EGRESS: '10.1.2.3/8,192.168.1.7,2001:DB8::/32'}).egress).toEqual([
      '10.0.0.0/8',
      '192.168.1.7/32',
      '2001:db8::/32',
    ]);
    expect(canonicalCidr('10.0.0.0/33')).toBeUndefined();
  });

  it('refuse what is not a port, a CIDR or on/off (exit 2 naming the setting)', () => {
    for (const env of <Array<Record<string, string>>>[
      {SANDMAN_HOST_ALLOW: '53,http'},
      {SANDMAN_HOST_ALLOW: '70000'},
      {SANDMAN_EGRESS: 'somewhere'},
      {SANDMAN_EGRESS: '10.0.0.0/8;rm -rf /'},
      {SANDMAN_NETWORK_POLICY: 'maybe'},
    ]) {
      expect(() => load(env), JSON.stringify(env)).toThrow(
        /invalid setting (hostAllow|egress|networkPolicy)/,
      );
    }
  });
});

describe('the boundary through create and reap', () => {
  it('is in place before the first container starts, and a reap restores what a reload removed', async () => {
    const world = fakeWorld();
    await world.sessions.create({user: 'alice', gpu: {kind: 'none'}, password: false, env: [], wait: true});
    expect(world.firewall.applied).toBe(1);
    expect((await world.networkBoundary.status()).rules.every((rule) => rule.status === 'ok')).toBe(true);
    world.firewall.chains.clear();
    world.firewall.hooks.clear();
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([expect.objectContaining({action: 'restore-firewall', result: 'done'})]);
    // IPv4 and IPv6 have rules of the same names: each name once, with its families.
    const names = report.items[0]!.detail!.replace(/^\d+ rule\(s\): /, '').split(', ');
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toMatch(/^SANDMAN-IN-\w+ \(IPv4\/IPv6\)$/);
    expect((await world.networkBoundary.status()).rules.every((rule) => rule.status === 'ok')).toBe(true);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
  });

  it('does nothing with networkPolicy off, and says so', async () => {
    const world = fakeWorld({settings: {networkPolicy: 'off'}});
    await world.sessions.create({user: 'alice', gpu: {kind: 'none'}, password: false, env: [], wait: true});
    expect(world.firewall.applied).toBe(0);
    expect(await world.networkBoundary.status()).toMatchObject({enabled: false, rules: []});
  });
});
