import {mkdtempSync, renameSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {appsOfLabels, parseApps, parseAppUrl} from '../../src/apps/app-catalog.js';
import {fileStamp} from '../../src/apps/adapters/file-stamp.js';
import {AppService, activityInterval, type AppServiceDeps} from '../../src/apps/app-service.js';
import {IMAGE_LABELS, LABELS} from '../../src/core/labels.js';
import type {ContainerSummary, ExecResult} from '../../src/runtime/docker/container-client.js';
import type {Grant} from '../../src/web/web-access.js';
import {answerHeaders, isUserRequest} from '../../cli/http/app-proxy.js';
import {FakeClock} from '../fakes/fake-host.js';
import {InMemoryStateStore} from '../fakes/in-memory-state-store.js';
import {sessionRecord} from '../helpers/state-file.js';

const ALICE = 'a11ce0000001';
const BOB = 'b0b000000002';
const TOKEN = 'f'.repeat(64);

describe('the app catalog', () => {
  it('--app: known apps only; code-server is refused with the reason', () => {
    expect(parseApps(['jupyter', 'jupyter,'])).toEqual(['jupyter']);
    expect(() => parseApps(['code-server'])).toThrow(/code-server is not a Debian or Ubuntu package/);
    expect(() => parseApps(['rstudio'])).toThrow(/unknown --app "rstudio": the apps are jupyter/);
  });

  it('the image label names the apps; unknown names and no label are none', () => {
    expect(appsOfLabels({[IMAGE_LABELS.apps]: 'jupyter other'}).map((app) => app.name)).toEqual(['jupyter']);
    expect(appsOfLabels({[IMAGE_LABELS.apps]: ''})).toEqual([]);
    expect(appsOfLabels(undefined)).toEqual([]);
  });

  it('app URLs keep their path (the app serves under the prefix); port URLs lose the prefix', () => {
    expect(parseAppUrl(`/s/${ALICE}/apps/jupyter/tree?x=1`)).toEqual({
      session: ALICE,
      prefix: `/s/${ALICE}/apps/jupyter/`,
      kind: 'app',
      app: 'jupyter',
      upstreamPath: `/s/${ALICE}/apps/jupyter/tree?x=1`,
    });
    expect(parseAppUrl(`/s/${ALICE}/port/8000/a/b?c`)).toMatchObject({
      kind: 'port',
      port: 8000,
      upstreamPath: '/a/b?c',
    });
    expect(parseAppUrl(`/s/${ALICE}/apps/jupyter`)).toEqual({redirect: `/s/${ALICE}/apps/jupyter/`});
    for (const path of [
      `/s/${ALICE}/port/0/`,
      `/s/${ALICE}/port/70000/`,
      '/s/alice/apps/jupyter/',
      '/sessions',
    ])
      expect(parseAppUrl(path), path).toBeUndefined();
  });

  it('what a user did counts as activity; a page’s background requests do not', () => {
    expect(isUserRequest('POST', {'sec-fetch-mode': 'cors'})).toBe(true);
    expect(isUserRequest('GET', {'sec-fetch-mode': 'navigate'})).toBe(true);
    expect(isUserRequest('GET', {})).toBe(true);
    expect(isUserRequest('GET', {'sec-fetch-mode': 'cors'})).toBe(false);
    expect(isUserRequest('GET', {'sec-fetch-mode': 'no-cors'})).toBe(false);
  });
});

describe("the app's answer", () => {
  it('keeps its own cookies and headers; drops a sandman login cookie, a widened service worker scope and hop-by-hop headers', () => {
    expect(
      answerHeaders({
        'content-type': 'text/html',
        'set-cookie': ['_xsrf=1; Path=/s/x/', 'sandman_login=stolen; Path=/'],
        'service-worker-allowed': '/',
        connection: 'keep-alive',
      }),
    ).toEqual({'content-type': 'text/html', 'set-cookie': ['_xsrf=1; Path=/s/x/']});
  });
});

function world(options: {swarm?: boolean; appPorts?: number[]} = {}) {
  const store = new InMemoryStateStore();
  const clock = new FakeClock();
  const execs: string[][] = [];
  const containers: ContainerSummary[] = [ALICE, BOB].map((id) => ({
    id: `container-${id}`,
    name: `sandman-x-${id}`,
    labels: {[LABELS.session]: id, [LABELS.instance]: 'inst', [IMAGE_LABELS.apps]: 'jupyter'},
    state: 'running',
    addresses: options.swarm ? undefined : {net: id === ALICE ? '172.30.0.2' : '172.30.0.3'},
  }));
  // What each part was asked: a cache hit asks neither the state file nor the engine.
  const asked = {reads: 0, lists: 0};
  const read = store.read.bind(store);
  store.read = () => {
    asked.reads++;
    return read();
  };
  const deps: AppServiceDeps = {
    config: {network: 'net', appPorts: options.appPorts ?? [], idleTimeout: 120_000},
    instance: 'inst',
    store,
    // The fake's stamp is its whole content: any write changes it, as a rewrite changes the file's inode and times.
    stateStamp: async () => JSON.stringify(store.snapshot),
    clock,
    containers: {
      listContainers: async (labels) => {
        asked.lists++;
        return containers.filter((one) =>
          Object.entries(labels).every(([key, value]) => one.labels[key] === value),
        );
      },
    },
    inContainer: options.swarm
      ? undefined
      : {
          exec: async (_id, command): Promise<ExecResult> => {
            execs.push(command);
            return {exitCode: 0, stdout: `${TOKEN}\n`, stderr: ''};
          },
        },
  };
  return {store, clock, execs, asked, containers, apps: new AppService(deps)};
}

async function withSessions(store: InMemoryStateStore, aliceStatus: 'running' | 'stopped' = 'running') {
  await store.update((state) => {
    state.sessions.push(
      sessionRecord({id: ALICE, user: 'alice', status: aliceStatus}),
      sessionRecord({id: BOB, user: 'bob'}),
    );
  });
}

const app = (session: string) =>
  ({
    session,
    prefix: `/s/${session}/apps/jupyter/`,
    kind: 'app',
    app: 'jupyter',
    upstreamPath: `/s/${session}/apps/jupyter/`,
  }) as const;
const alice: Grant = {kind: 'user', user: 'alice'};

describe('who reaches an app, and where', () => {
  it("her own session's Jupyter: started once (as her, on its address, under the prefix), the token added to each request", async () => {
    const {store, apps, execs} = world();
    await withSessions(store);
    const first = await apps.upstream(alice, app(ALICE));
    expect(first).toEqual({
      host: '172.30.0.2',
      port: 8888,
      headers: {authorization: `token ${TOKEN}`},
      app: 'jupyter',
      containerId: `container-${ALICE}`,
      session: ALICE,
    });
    await apps.upstream({kind: 'admin'}, app(ALICE));
    expect(execs).toHaveLength(1);
    expect(execs[0]).toEqual(
      expect.arrayContaining([
        'jupyter',
        '--ip=172.30.0.2',
        `--NotebookApp.base_url=/s/${ALICE}/apps/jupyter/`,
      ]),
    );
    // Nothing listened (the app ended): the next request starts it again.
    apps.forget(first as {containerId: string; app: string; session: string});
    await apps.upstream(alice, app(ALICE));
    expect(execs).toHaveLength(2);
  });

  it("another user's session is 403, a terminal login 403, an unknown or stopped session 404; nothing is started", async () => {
    const {store, apps, execs} = world();
    await withSessions(store, 'stopped');
    expect(await apps.upstream(alice, app(BOB))).toEqual({
      status: 403,
      message: `Session ${BOB} is not yours: only its user and the admin open its apps.`,
    });
    expect(await apps.upstream({kind: 'terminal', session: ALICE}, app(ALICE))).toMatchObject({status: 403});
    expect(await apps.upstream(alice, app('0123456789ab'))).toMatchObject({
      status: 404,
      message: expect.stringMatching(/There is no session 0123456789ab: it was removed/),
    });
    expect(await apps.upstream(alice, app(ALICE))).toMatchObject({
      status: 404,
      message: expect.stringMatching(new RegExp(`Session ${ALICE} is stopped`)),
    });
    expect(execs).toEqual([]);
  });

  it('a port only when appPorts lists it; Swarm mode: not available', async () => {
    const port = (number: number) =>
      ({
        session: ALICE,
        prefix: `/s/${ALICE}/port/${number}/`,
        kind: 'port',
        port: number,
        upstreamPath: '/',
      }) as const;
    const open = world({appPorts: [8000]});
    await withSessions(open.store);
    expect(await open.apps.upstream(alice, port(8000))).toMatchObject({
      host: '172.30.0.2',
      port: 8000,
      headers: {},
    });
    expect(await open.apps.upstream(alice, port(8001))).toMatchObject({status: 403});
    const swarm = world({swarm: true});
    await withSessions(swarm.store);
    expect(await swarm.apps.upstream(alice, app(ALICE))).toMatchObject({
      status: 503,
      message: expect.stringMatching(/not available here/),
    });
  });

  it("activity is written at most once per interval, with reason 'app'", async () => {
    const {store, clock, apps} = world();
    await withSessions(store);
    expect(activityInterval(120_000)).toBe(30_000);
    expect(activityInterval(3_600_000)).toBe(60_000);
    await apps.touch(ALICE);
    const first = (await store.read()).sessions.find((one) => one.id === ALICE)!;
    expect([first.last_active_at, first.last_active_reason]).toEqual(['2026-11-24T12:00:00Z', 'app']);
    clock.advance(10_000);
    await apps.touch(ALICE);
    expect((await store.read()).sessions.find((one) => one.id === ALICE)!.last_active_at).toBe(
      '2026-11-24T12:00:00Z',
    );
    clock.advance(25_000);
    await apps.touch(ALICE);
    expect((await store.read()).sessions.find((one) => one.id === ALICE)!.last_active_at).toBe(
      '2026-11-24T12:00:35Z',
    );
  });
});

describe('what the proxy keeps between requests', () => {
  it('a second request reads no state and asks no engine; who may open it is still decided each time', async () => {
    const {store, apps, asked} = world();
    await withSessions(store);
    await apps.upstream(alice, app(ALICE));
    expect(asked).toEqual({reads: 1, lists: 1});
    expect(await apps.upstream({kind: 'admin'}, app(ALICE))).toMatchObject({host: '172.30.0.2'});
    expect(await apps.upstream({kind: 'user', user: 'bob'}, app(ALICE))).toMatchObject({status: 403});
    expect(await apps.upstream({kind: 'terminal', session: ALICE}, app(ALICE))).toMatchObject({status: 403});
    expect(asked).toEqual({reads: 1, lists: 1});
  });

  it('a change of the state drops it: a stopped or removed session is 404 at the next request', async () => {
    const {store, apps, asked} = world();
    await withSessions(store);
    await apps.upstream(alice, app(ALICE));
    await store.update((state) => {
      state.sessions.find((one) => one.id === ALICE)!.status = 'stopped';
    });
    expect(await apps.upstream(alice, app(ALICE))).toMatchObject({
      status: 404,
      message: expect.stringMatching(new RegExp(`Session ${ALICE} is stopped`)),
    });
    await store.update((state) => {
      state.sessions.find((one) => one.id === ALICE)!.status = 'running';
    });
    await apps.upstream(alice, app(ALICE));
    expect(asked).toEqual({reads: 3, lists: 2});
    await store.update((state) => {
      state.sessions = state.sessions.filter((one) => one.id !== ALICE);
    });
    expect(await apps.upstream(alice, app(ALICE))).toMatchObject({
      status: 404,
      message: expect.stringMatching(/There is no session .*: it was removed/),
    });
  });

  it('a request that reached nothing drops the container kept: the next one asks the engine again', async () => {
    const {store, apps, asked, containers} = world({appPorts: [8000]});
    await withSessions(store);
    const port = {
      session: ALICE,
      prefix: `/s/${ALICE}/port/8000/`,
      kind: 'port',
      port: 8000,
      upstreamPath: '/',
    } as const;
    const first = await apps.upstream(alice, port);
    // The container came back on another address without the state changing (the engine restarted it).
    containers[0] = {...containers[0]!, addresses: {net: '172.30.0.9'}};
    expect(await apps.upstream(alice, port)).toMatchObject({host: '172.30.0.2'});
    apps.forget(first as {containerId: string; session: string});
    expect(await apps.upstream(alice, port)).toMatchObject({host: '172.30.0.9'});
    expect(asked).toEqual({reads: 1, lists: 2});
  });

  it('no running container is not kept', async () => {
    const {store, apps, asked, containers} = world();
    await withSessions(store);
    containers[0]!.state = 'exited';
    expect(await apps.upstream(alice, app(ALICE))).toMatchObject({status: 404});
    containers[0]!.state = 'running';
    expect(await apps.upstream(alice, app(ALICE))).toMatchObject({host: '172.30.0.2'});
    expect(asked).toEqual({reads: 1, lists: 2});
  });

  it("the state file's stamp changes with each rewrite (a new file renamed over it), not without one", async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'sandman-stamp-'));
    const file = path.join(folder, 'state.json');
    expect(await fileStamp(file)).toBe('absent');
    writeFileSync(file, '{"version":1}');
    const first = await fileStamp(file);
    expect(await fileStamp(file)).toBe(first);
    // The same size and, on a coarse clock, the same time: the new inode still tells it apart.
    writeFileSync(`${file}.tmp`, '{"version":2}');
    renameSync(`${file}.tmp`, file);
    expect(await fileStamp(file)).not.toBe(first);
  });
});
