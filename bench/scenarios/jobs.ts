/** Batch jobs (docs/admin/jobs.md): submit → the command's start, and a GPU handed on at a job's exit. */
import {existsSync, readFileSync} from 'node:fs';
import {chown, mkdir} from 'node:fs/promises';
import path from 'node:path';

import {SSHD_CAPABILITIES} from '../../src/session/session-service.js';
import {BIN, IMAGE, OTHER_BIN, ROOT, RUNS, dir, docker, median, sandman, type Row} from '../harness.js';

/** This build, and BENCH_OTHER_BIN's when given: each gets its rows, alternating within each run. */
const BUILDS: Array<[string, string]> = [
  ['', BIN],
  ...(OTHER_BIN ? [[' (BENCH_OTHER_BIN)', OTHER_BIN] as [string, string]] : []),
];

/** The job's command: the time it started (ms since the epoch), in a file in its home. */
const stamp = (file: string) => ['sh', '-c', `date +%s%3N > ${file}`];
/** A file's stamp, once the file is there (polled every 5 ms). */
async function stampOf(file: string, timeoutMs = 60_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8').trim();
      if (text !== '') return Number(text);
    }
    if (Date.now() > until) throw new Error(`${file} never came`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
/** Until the job has ended and been collected (`job show` collects an ended job). */
async function collected(id: string, extra: Record<string, string> = {}): Promise<void> {
  for (let tries = 0; tries < 400; tries++) {
    const shown = await sandman(['job', 'show', id, '--json'], extra);
    const state = (JSON.parse(String(shown.stdout)) as {state: string}).state;
    if (state !== 'running' && state !== 'queued') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} never ended`);
}
const jobId = (stdout: unknown) => (JSON.parse(String(stdout)) as {job_id: string}).job_id;

/**
 * `sandman job submit --no-gpu -- sh -c 'date > marker'` until the command has written its start
 * time, against `docker run -d` of the same container (the job's network, hardening, home and
 * environment, the image's job entrypoint) with the same command, alternating.
 */
export async function benchJobStart(): Promise<Row[]> {
  const user = 'jobber';
  const home = path.join(dir, 'ws', user);
  const rawHome = path.join(dir, 'raw-home', user);
  await mkdir(rawHome, {recursive: true, mode: 0o700});
  await chown(rawHome, 30000, 30000);
  const sandmanTimes: number[][] = BUILDS.map(() => []);
  const rawTimes: number[] = [];
  // A first job makes the network, the home and the user's uid: not timed.
  const first = await sandman(['job', 'submit', user, '--no-gpu', '--json', '--', 'true']);
  if (first.exitCode !== 0) throw new Error(`job submit failed: ${String(first.stderr)}`);
  await collected(jobId(first.stdout));
  for (let run = 0; run < RUNS; run++) {
    const marker = `start-${run}`;
    for (const [index, [, bin]] of BUILDS.entries()) {
      const file = `${marker}-${index}`;
      const start = Date.now();
      const submitted = await sandman(
        ['job', 'submit', user, '--no-gpu', '--json', '--', ...stamp(file)],
        {},
        bin,
      );
      if (submitted.exitCode !== 0) throw new Error(`job submit failed: ${String(submitted.stderr)}`);
      sandmanTimes[index]!.push((await stampOf(path.join(home, file))) - start);
      await collected(jobId(submitted.stdout));
    }

    const name = `bench-rawjob-${run}`;
    const rawStart = Date.now();
    const ran = await docker([
      'run',
      '-d',
      '--name',
      name,
      '--hostname',
      `sandman-${user}`,
      '--network',
      'sandman-bench',
      '--cap-drop',
      'ALL',
      ...SSHD_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]),
      '--security-opt',
      'no-new-privileges:true',
      '--pids-limit',
      '1024',
      '-v',
      `${rawHome}:/home/${user}`,
      '-e',
      `SANDMAN_USER=${user}`,
      '-e',
      'SANDMAN_UID=30000',
      '-e',
      `SANDMAN_JOB_ID=raw${run}`,
      '-e',
      `SANDMAN_JOB_WORKDIR=/home/${user}`,
      '-e',
      'SANDMAN_USER_ENV=',
      IMAGE,
      ...stamp(marker),
    ]);
    if (ran.exitCode !== 0) throw new Error(`docker run failed: ${String(ran.stderr)}`);
    rawTimes.push((await stampOf(path.join(rawHome, marker))) - rawStart);
    await docker(['rm', '-f', name]);
  }
  return BUILDS.map(([label], index) => ({
    name: `job submit → its command runs${label}`,
    sandman: median(sandmanTimes[index]!),
    baseline: median(rawTimes),
    baselineName: 'docker run -d of the same container',
    target: 1.3,
    unit: 'ms',
  }));
}

/**
 * A GPU handed on (the replayed 8-GPU host, test/stand-ins' nvidia-smi, seven GPUs held by other
 * jobs): job A on the eighth exits while job B of another user waits in line for a GPU; from A's last stamp to B's first. Attached: A was
 * submitted with `--wait`; via reap: nothing follows A, `sandman reap` is run as soon as A's stamp
 * is there, again until B has started (the reaper's timer adds up to its minute to that).
 */
export async function benchHandover(): Promise<Row[]> {
  const gpu = {
    SANDMAN_NVIDIA_SMI: path.join(ROOT, 'test/stand-ins/nvidia-smi.mjs'),
    SANDMAN_FAKE_GPU_HOST: 'rtx-pro-6000-x8-no-mig',
    SANDMAN_FAKE_GPU_STATE: path.join(dir, 'gpu-state.json'),
    SANDMAN_FAKE_GPU_LOG: path.join(dir, 'nvidia-smi.log'),
  };
  const attached: number[][] = BUILDS.map(() => []);
  const reaped: number[][] = BUILDS.map(() => []);
  const submit = (user: string, args: string[], bin = BIN) =>
    sandman(['job', 'submit', user, '--gpu', 'any', '--json', '--', ...args], gpu, bin);
  // Seven of the eight GPUs held for the scenario's length (the teardown removes these containers):
  // A takes the eighth and B waits for it.
  for (let index = 0; index < 7; index++) {
    const filler = await submit(`hold${index}`, ['sleep', '3600']);
    if (filler.exitCode !== 0) throw new Error(`job submit failed: ${String(filler.stderr)}`);
  }
  const once = async (run: number, wait: boolean, bin: string): Promise<number> => {
    const endA = `end-${wait ? 'w' : 'r'}-${run}-${bin === BIN ? 0 : 1}`;
    const startB = `start-${wait ? 'w' : 'r'}-${run}-${bin === BIN ? 0 : 1}`;
    const aArgs = ['sh', '-c', `sleep 3; date +%s%3N > ${endA}`];
    const a = wait
      ? sandman(['job', 'submit', 'hand-a', '--gpu', 'any', '--wait', '--', ...aArgs], gpu, bin)
      : undefined;
    let aId: string | undefined;
    if (!wait) {
      const submitted = await submit('hand-a', aArgs, bin);
      if (submitted.exitCode !== 0) throw new Error(`job submit failed: ${String(submitted.stderr)}`);
      aId = jobId(submitted.stdout);
    } else await new Promise((resolve) => setTimeout(resolve, 1500));
    const b = await submit('hand-b', stamp(startB), bin);
    if (b.exitCode !== 0) throw new Error(`job submit failed: ${String(b.stderr)}`);
    const ended = await stampOf(path.join(dir, 'ws', 'hand-a', endA));
    // A reap that came between A's stamp and its exit finds it running: the next reap collects it.
    for (let reaps = 0; !wait && !existsSync(path.join(dir, 'ws', 'hand-b', startB)) && reaps < 20; reaps++)
      await sandman(['reap'], gpu, bin);
    const started = await stampOf(path.join(dir, 'ws', 'hand-b', startB));
    await a;
    if (aId) await collected(aId, gpu);
    await collected(jobId(b.stdout), gpu);
    return started - ended;
  };
  for (let run = 0; run < RUNS; run++)
    for (const [index, [, bin]] of BUILDS.entries()) {
      attached[index]!.push(await once(run, true, bin));
      reaped[index]!.push(await once(run, false, bin));
    }
  return BUILDS.flatMap(([label], index) => [
    {
      name: `GPU handover, attached --wait${label}`,
      sandman: median(attached[index]!),
      baseline: 2000,
      baselineName: 'the target: 2 s after the exit',
      target: 1,
      unit: 'ms',
    },
    {
      name: `GPU handover, reap run at the exit${label}`,
      sandman: median(reaped[index]!),
      baseline: median(attached[index]!),
      baselineName: 'the attached handover',
      target: null,
      unit: 'ms',
    },
  ]);
}
