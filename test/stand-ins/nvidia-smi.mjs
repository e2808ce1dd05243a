#!/usr/bin/env node
// Test stand-in for nvidia-smi (selected with SANDMAN_NVIDIA_SMI). It answers for one replayed
// host, described by a manifest in test/fixtures/hosts/ (SANDMAN_FAKE_GPU_HOST):
//  - while nothing changed, -L, -lgi and -lgip print the REAL captured bytes named in the manifest;
//  - `mig -cgi/-dci/-dgi` change a state file (SANDMAN_FAKE_GPU_STATE), answer with the message
//    formats of the real captures, and from then on -L/-lgi/-lgip are generated from that state
//    in the r580 layouts (test/unit/nvidia-smi-stand-in.test.ts checks the generator reproduces
//    the captures byte for byte);
//  - `--query-gpu` answers the asked fields from the host's capture (see each manifest's "about").
// Every call is appended to SANDMAN_FAKE_GPU_LOG when set, so tests can see what sandman ran;
// SANDMAN_FAKE_GPU_CGI_ERROR names a captured -cgi failure to replay instead of creating.
// The UUIDs the host has now are written to REGISTRY, where the hook stand-in looks a container's
// devices up: like the real runtime, it refuses a device the host does not have.
// `--sandman-test-reboot [--drop PROFILE,...]` (not nvidia-smi's) plays a host reboot: MIG devices
// come back with new UUIDs, as mig-parted makes them again; those of the dropped profiles and the
// ones made at run time do not come back.
import {createHash, randomUUID} from 'node:crypto';
import {appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, '..', 'fixtures', 'nvidia-smi');
const HOSTS = path.join(HERE, '..', 'fixtures', 'hosts');

/** Placements per GPU instance profile ID (NVIDIA MIG user guide, A100 40GB) and default CI profile IDs. */
const GEOMETRY = {
  'a100-40gb': {
    slots: 8,
    profiles: {
      19: {starts: [0, 1, 2, 3, 4, 5, 6], size: 1},
      20: {starts: [0, 1, 2, 3, 4, 5, 6], size: 1, max: 1},
      15: {starts: [0, 2, 4, 6], size: 2},
      14: {starts: [0, 2, 4], size: 2},
      9: {starts: [0, 4], size: 4},
      5: {starts: [0], size: 4},
      0: {starts: [0], size: 8},
    },
    ciProfileBySlices: {1: 0, 2: 1, 3: 2, 4: 3, 7: 4},
  },
};

const args = process.argv.slice(2);
const out = (text) => process.stdout.write(text);
const fail = (text, code = 2) => {
  process.stdout.write(text);
  process.exit(code);
};
if (process.env.SANDMAN_FAKE_GPU_LOG) appendFileSync(process.env.SANDMAN_FAKE_GPU_LOG, args.join(' ') + '\n');

const hostName = process.env.SANDMAN_FAKE_GPU_HOST;
if (!hostName) fail('stand-in: SANDMAN_FAKE_GPU_HOST is not set\n');
const hostFile = hostName.endsWith('.json') ? hostName : path.join(HOSTS, `${hostName}.json`);
const host = JSON.parse(readFileSync(hostFile, 'utf8'));
const fixture = (name) => readFileSync(path.join(FIXTURES, name), 'utf8');
const stateFile = process.env.SANDMAN_FAKE_GPU_STATE;

// ---------- parsing captures into the initial state ----------

function parseList(text) {
  const gpus = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    let m = /^GPU (\d+): (.+) \(UUID: (GPU-[^)]+)\)$/.exec(line);
    if (m) {
      gpus.push({index: Number(m[1]), name: m[2], uuid: m[3], devices: []});
      continue;
    }
    m = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)]+)\)$/.exec(line);
    if (m) gpus.at(-1).devices.push({name: m[1], uuid: m[3]});
  }
  return gpus;
}

function parseProfiles(text) {
  const rows = [];
  let last;
  for (const line of text.split('\n')) {
    let m =
      /^\|\s+(\d+)\s+MIG (\S+)\s+(\d+)\s+(\d+)\/(\d+)\s+([\d.]+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\|$/.exec(
        line,
      );
    if (m) {
      last = {
        gpu: +m[1],
        name: m[2],
        id: +m[3],
        total: +m[5],
        memory: m[6],
        p2p: m[7],
        sm: +m[8],
        dec: +m[9],
        enc: +m[10],
      };
      rows.push(last);
      continue;
    }
    m = /^\|\s+(\d+)\s+(\d+)\s+(\d+)\s+\|$/.exec(line);
    if (m && last) Object.assign(last, {ce: +m[1], jpeg: +m[2], ofa: +m[3]});
  }
  return rows;
}

function parseInstances(text) {
  return text
    .split('\n')
    .map((line) => /^\|\s+(\d+)\s+MIG (\S+)\s+(\d+)\s+(\d+)\s+(\d+):(\d+)\s+\|$/.exec(line))
    .filter(Boolean)
    .map((m) => ({
      gpu: +m[1],
      profile: m[2],
      profileId: +m[3],
      gi: +m[4],
      start: +m[5],
      size: +m[6],
      cis: [],
    }));
}

function initialState() {
  const list = host.captures?.list ? parseList(fixture(host.captures.list)) : [];
  const gpus = host.gpus ?? list.map(({index, name, uuid}) => ({index, name, uuid}));
  let instances = host.instances ?? (host.captures?.lgi ? parseInstances(fixture(host.captures.lgi)) : []);
  if (!host.instances && list.length > 0) {
    // -L (new UUIDs) does not say which GPU instance a device is on: give each device, in order,
    // to the instances of its base profile, GI IDs ascending (the order -L lists them in).
    const byGi = [...instances].sort((a, b) => a.gi - b.gi);
    for (const gpu of list) {
      for (const device of gpu.devices) {
        const base = device.name.replace(/^\d+c\./, '');
        const candidates = byGi.filter((i) => i.gpu === gpu.index && i.profile === base);
        const target = candidates.find((i) => i.cis.length === 0) ?? candidates.at(-1);
        if (target) target.cis.push({ci: target.cis.length, name: device.name, uuid: device.uuid});
      }
    }
    instances = byGi;
  }
  return {pristine: true, gpus, instances};
}

function loadState() {
  if (stateFile && existsSync(stateFile)) return JSON.parse(readFileSync(stateFile, 'utf8'));
  return initialState();
}

function saveState(state) {
  if (!stateFile) fail('stand-in: MIG changes need SANDMAN_FAKE_GPU_STATE\n');
  state.pristine = false;
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
}

// ---------- generated output in the r580 layouts ----------

function row(width, cells) {
  const chars = Array.from({length: width}, () => ' ');
  chars[0] = '|';
  chars[width - 1] = '|';
  for (const [text, at, align] of cells) {
    const start = align === 'right' ? at - text.length : at;
    for (let i = 0; i < text.length; i++) chars[start + i] = text[i];
  }
  return chars.join('') + '\n';
}

function generateList(state) {
  let text = '';
  for (const gpu of state.gpus) {
    text += `GPU ${gpu.index}: ${gpu.name} (UUID: ${gpu.uuid})\n`;
    let device = 0;
    const mine = state.instances.filter((i) => i.gpu === gpu.index).sort((a, b) => a.gi - b.gi);
    for (const instance of mine) {
      for (const ci of [...instance.cis].sort((a, b) => a.ci - b.ci)) {
        text += `  MIG ${ci.name.padEnd(12)}Device ${String(device++).padStart(2)}: (UUID: ${ci.uuid})\n`;
      }
    }
  }
  return text;
}

function generateInstances(state) {
  const line = '+' + '-'.repeat(57) + '+\n';
  let text =
    line + row(59, [['GPU instances:', 2]]) + '| GPU   Name               Profile  Instance   Placement  |\n';
  text += '|                            ID       ID       Start:Size |\n|' + '='.repeat(57) + '|\n';
  const sorted = [...state.instances].sort(
    (a, b) => a.gpu - b.gpu || b.profileId - a.profileId || a.gi - b.gi,
  );
  for (const i of sorted) {
    text += row(59, [
      [String(i.gpu), 5, 'right'],
      [`MIG ${i.profile}`, 7],
      [String(i.profileId), 31, 'right'],
      [String(i.gi), 40, 'right'],
      [String(i.start), 51, 'right'],
      [`:${i.size}`, 51],
    ]);
    text += line;
  }
  return text;
}

function freeCount(state, gpu, profile, geometry) {
  const shape = geometry.profiles[profile.id];
  if (!shape) return 0;
  const used = state.instances.filter((i) => i.gpu === gpu);
  if (shape.max !== undefined && used.filter((i) => i.profileId === profile.id).length >= shape.max) return 0;
  const taken = new Set(used.flatMap((i) => Array.from({length: i.size}, (_, k) => i.start + k)));
  let count = 0;
  for (const start of shape.starts) {
    const slots = Array.from({length: shape.size}, (_, k) => start + k);
    if (slots.every((slot) => !taken.has(slot))) {
      count++;
      for (const slot of slots) taken.add(slot);
    }
  }
  return shape.max !== undefined ? Math.min(count, shape.max) : count;
}

function generateProfiles(state) {
  const geometry = GEOMETRY[host.geometry];
  const profiles = parseProfiles(fixture(host.profiles));
  const line = '+' + '-'.repeat(79) + '+\n';
  let text = line + row(81, [['GPU instance profiles:', 2]]);
  text += '| GPU   Name               ID    Instances   Memory     P2P    SM    DEC   ENC  |\n';
  text +=
    '|                                Free/Total   GiB              CE    JPEG  OFA  |\n|' +
    '='.repeat(79) +
    '|\n';
  for (const gpu of state.gpus) {
    for (const p of profiles) {
      text += row(81, [
        [String(gpu.index), 5, 'right'],
        [`MIG ${p.name}`, 7],
        [String(p.id), 29, 'right'],
        [String(freeCount(state, gpu.index, p, geometry)), 35, 'right'],
        [`/${p.total}`, 35],
        [p.memory, 45],
        [p.p2p, 56],
        [String(p.sm), 65, 'right'],
        [String(p.dec), 71, 'right'],
        [String(p.enc), 77, 'right'],
      ]);
      text += row(81, [
        [String(p.ce), 65, 'right'],
        [String(p.jpeg), 71, 'right'],
        [String(p.ofa), 77, 'right'],
      ]);
      text += line;
    }
  }
  return text;
}

// ---------- --query-gpu ----------

/** The field order of the manifests' query_rows: sandman's own query (src/gpu/parse-query-gpu.ts). */
const QUERY_ROW_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'mig.mode.current',
];

// SANDMAN_FAKE_GPU_UTILIZATION names a JSON file the test writes (and rewrites between reaps):
// {"<GPU UUID or index>": percent}. Those GPUs' utilization.gpu answers it instead of the capture's.
function withUtilization(fields, text) {
  const file = process.env.SANDMAN_FAKE_GPU_UTILIZATION;
  const column = fields.indexOf('utilization.gpu');
  if (!file || column < 0 || !existsSync(file)) return text;
  const told = JSON.parse(readFileSync(file, 'utf8'));
  const uuidAt = fields.indexOf('uuid');
  const indexAt = fields.indexOf('index');
  return text
    .split('\n')
    .map((line) => {
      if (!line) return line;
      const cells = line.split(', ');
      const value = told[cells[uuidAt]] ?? told[cells[indexAt]];
      if (value !== undefined) cells[column] = String(value);
      return cells.join(', ');
    })
    .join('\n');
}

function queryGpu(fields) {
  return withUtilization(fields, queryGpuRows(fields));
}

function queryGpuRows(fields) {
  if (host.query_rows) {
    // Only the asked fields, in the asked order, as nvidia-smi answers.
    return host.query_rows
      .map((r) => {
        const cells = r.split(', ');
        return fields.map((field) => cells[QUERY_ROW_FIELDS.indexOf(field)] ?? '[N/A]').join(', ') + '\n';
      })
      .join('');
  }
  if (host.query_from_csv) {
    const [header, ...rows] = fixture(host.query_from_csv).split('\n').filter(Boolean);
    const names = header.split(',').map((cell) => cell.trim().replace(/\s*\[.*\]$/, ''));
    return rows
      .map((line) => {
        const cells = line.split(',').map((cell) => cell.trim());
        return fields
          .map((field) => (cells[names.indexOf(field)] ?? '[N/A]').replace(/ (MiB|W|%)$/, ''))
          .join(', ');
      })
      .map((r) => r + '\n')
      .join('');
  }
  if (host.query_from_list_and_mig_mode) {
    const list = parseList(fixture(host.captures.list));
    const modes = Object.fromEntries(
      fixture(host.query_from_list_and_mig_mode)
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((line) => line.split(',').map((cell) => cell.trim())),
    );
    return list
      .map((gpu) => {
        const known = {
          index: String(gpu.index),
          uuid: gpu.uuid,
          name: gpu.name,
          'mig.mode.current': modes[gpu.index],
        };
        return fields.map((field) => known[field] ?? '[N/A]').join(', ') + '\n';
      })
      .join('');
  }
  fail('stand-in: no --query-gpu data for this host\n');
}

// ---------- MIG changes ----------

const pad2 = (n) => String(n).padStart(2);

function createInstance(state, gpuIndex, profileArg) {
  const geometry = GEOMETRY[host.geometry];
  const profiles = parseProfiles(fixture(host.profiles));
  const profile = profiles.find((p) => p.name === profileArg || String(p.id) === profileArg);
  if (!profile)
    fail(
      `Unable to create a GPU instance on GPU ${pad2(gpuIndex)} using profile ${profileArg}: Not Found\nFailed to create GPU instances: Not Found\n`,
    );
  if (freeCount(state, gpuIndex, profile, geometry) < 1) {
    fail(
      `Unable to create a GPU instance on GPU ${pad2(gpuIndex)} using profile ${profileArg}: Insufficient Resources\n` +
        'Failed to create GPU instances: Insufficient Resources\n',
    );
  }
  const shape = geometry.profiles[profile.id];
  const taken = new Set(
    state.instances
      .filter((i) => i.gpu === gpuIndex)
      .flatMap((i) => Array.from({length: i.size}, (_, k) => i.start + k)),
  );
  const start = shape.starts.find((s) =>
    Array.from({length: shape.size}, (_, k) => s + k).every((slot) => !taken.has(slot)),
  );
  const ids = new Set(state.instances.filter((i) => i.gpu === gpuIndex).map((i) => i.gi));
  let gi = 1;
  while (ids.has(gi)) gi++;
  const slices = Number(/^(\d+)g/.exec(profile.name)[1]);
  const ciProfile = geometry.ciProfileBySlices[slices];
  state.instances.push({
    gpu: gpuIndex,
    profile: profile.name,
    profileId: profile.id,
    gi,
    start,
    size: shape.size,
    cis: [{ci: 0, name: profile.name, uuid: `MIG-${randomUUID()}`}],
    // Made at run time (dynamic mode): a reboot does not bring it back.
    created: true,
  });
  saveState(state);
  out(
    `Successfully created GPU instance ID ${pad2(gi)} on GPU ${pad2(gpuIndex)} using profile MIG ${profile.name} (ID ${pad2(profile.id)})\n` +
      `Successfully created compute instance ID  0 on GPU ${pad2(gpuIndex)} GPU instance ID ${pad2(gi)} using profile MIG ${profile.name} (ID ${pad2(ciProfile)})\n`,
  );
}

function option(name) {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

// ---------- dispatch ----------

const REGISTRY = '/var/tmp/sandman-test-gpu-hosts';

function register(state) {
  const key = createHash('sha256')
    .update(stateFile ?? hostFile)
    .digest('hex')
    .slice(0, 16);
  const uuids = [
    ...state.gpus.map((gpu) => gpu.uuid),
    ...state.instances.flatMap((i) => i.cis.map((c) => c.uuid)),
  ];
  mkdirSync(REGISTRY, {recursive: true});
  // Replaced whole (written beside, then renamed): the hook stand-in reads these files while
  // concurrent creates' nvidia-smi runs rewrite them, and must never see one half-written.
  const temp = path.join(REGISTRY, `.${key}.${process.pid}`);
  writeFileSync(temp, uuids.join('\n') + '\n');
  renameSync(temp, path.join(REGISTRY, key));
}

// SANDMAN_FAKE_GPU_FAILURE replays a bad day with the real captured words (SOURCES.md "Failure
// messages"): driver, no-devices (exit 6), no-devices-exit0, unknown-field, truncated, no-mig,
// permissions.
const failure = process.env.SANDMAN_FAKE_GPU_FAILURE;
const migListing = args[0] === 'mig' && (args.includes('-lgip') || args.includes('-lgi'));
if (failure === 'driver') fail(fixture('no-driver_nvidia-smi.txt'), 9);
if (
  failure?.startsWith('no-devices') &&
  (args[0] === '-L' || args.some((arg) => arg.startsWith('--query-gpu=')))
) {
  fail(fixture('tesla-t4_nvidia-smi-i1_no-devices.txt'), failure === 'no-devices-exit0' ? 0 : 6);
}
if (
  failure === 'unknown-field' &&
  args.some((arg) => arg.startsWith('--query-gpu=') && arg.includes('mig.mode.current'))
) {
  // The captured message names compute_cap; an older driver names whatever it does not know.
  fail(fixture('field-not-valid_query-gpu-compute-cap.txt').replace('compute_cap', 'mig.mode.current'), 2);
}
if (failure === 'no-mig' && migListing) fail(fixture('tesla-t4_mig-lgip_no-mig-enabled.txt'), 6);
if (failure === 'permissions' && migListing) {
  const what = args.includes('-lgip') ? 'GPU instance profiles' : 'GPU instances';
  fail(fixture('mig-lci_insufficient-permissions.txt').replace('compute instances', what), 4);
}

const state = loadState();
if (args[0] === '--sandman-test-reboot') {
  const drop = (option('--drop') ?? '').split(',').filter(Boolean);
  state.instances = state.instances
    .filter((i) => !i.created && !drop.includes(i.profile))
    .map((i) => ({...i, cis: i.cis.map((c) => ({...c, uuid: `MIG-${randomUUID()}`}))}));
  saveState(state);
  register(state);
  process.exit(0);
}
register(state);
const query = args.find((arg) => arg.startsWith('--query-gpu='));
if (args[0] === '-L') {
  const list = state.pristine && host.captures?.list ? fixture(host.captures.list) : generateList(state);
  // A truncated answer: the last GPU (and its MIG devices) cut off.
  out(failure === 'truncated' ? list.slice(0, list.lastIndexOf('\nGPU ') + 1) : list);
} else if (args.some((arg) => arg.startsWith('--query-compute-apps='))) {
  // SANDMAN_FAKE_GPU_COMPUTE_PIDS: host PIDs the test says run CUDA work (rows as with noheader,nounits).
  const pids = (process.env.SANDMAN_FAKE_GPU_COMPUTE_PIDS ?? '').split(',').filter(Boolean);
  out(
    pids
      .map((pid) => `${pid}, ${state.gpus[0]?.uuid ?? 'GPU-00000000-0000-0000-0000-000000000000'}\n`)
      .join(''),
  );
} else if (query) {
  out(queryGpu(query.slice('--query-gpu='.length).split(',')));
} else if (args[0] === 'mig' && args.includes('-lgip')) {
  if (state.pristine && host.captures?.lgip) out(fixture(host.captures.lgip));
  else if (host.profiles && host.geometry) out(generateProfiles(state));
  else fail('stand-in: no -lgip capture for this host\n');
} else if (args[0] === 'mig' && args.includes('-lgi')) {
  out(state.pristine && host.captures?.lgi ? fixture(host.captures.lgi) : generateInstances(state));
} else if (args[0] === 'mig' && args.includes('-cgi') && process.env.SANDMAN_FAKE_GPU_CGI_ERROR) {
  // Replays a captured failure (e.g. gh200_mig-cgi-C_error-in-use.txt) instead of creating.
  fail(fixture(process.env.SANDMAN_FAKE_GPU_CGI_ERROR), 1);
} else if (args[0] === 'mig' && args.includes('-cgi')) {
  createInstance(state, Number(option('-i') ?? 0), option('-cgi'));
} else if (args[0] === 'mig' && args.includes('-dci')) {
  const gpu = Number(option('-i') ?? 0);
  const gi = Number(option('-gi'));
  const instance = state.instances.find((i) => i.gpu === gpu && i.gi === gi);
  const ciArg = option('-ci');
  const cis = instance ? instance.cis.filter((c) => ciArg === undefined || c.ci === Number(ciArg)) : [];
  if (cis.length === 0) {
    fail(
      `Unable to destroy compute instance from GPU ${pad2(gpu)} GPU instance ID ${pad2(gi)}: Not Found\nFailed to destroy compute instances: Not Found\n`,
    );
  }
  instance.cis = instance.cis.filter((c) => !cis.includes(c));
  saveState(state);
  out(
    cis
      .map(
        (c) =>
          `Successfully destroyed compute instance ID ${pad2(c.ci)} from GPU ${pad2(gpu)} GPU instance ID ${pad2(gi)}\n`,
      )
      .join(''),
  );
} else if (args[0] === 'mig' && args.includes('-dgi')) {
  const gpu = Number(option('-i') ?? 0);
  const gi = Number(option('-gi'));
  const instance = state.instances.find((i) => i.gpu === gpu && i.gi === gi);
  if (!instance)
    fail(
      `Unable to destroy GPU instance ID ${pad2(gi)} from GPU ${pad2(gpu)}: Not Found\nFailed to destroy GPU instances: Not Found\n`,
    );
  if (instance.cis.length > 0) {
    fail(
      `Unable to destroy GPU instance ID ${pad2(gi)} from GPU ${pad2(gpu)}: In use by another client\nFailed to destroy GPU instances: In use by another client\n`,
    );
  }
  state.instances = state.instances.filter((i) => i !== instance);
  saveState(state);
  out(`Successfully destroyed GPU instance ID ${pad2(gi)} from GPU ${pad2(gpu)}\n`);
} else {
  fail(`stand-in: unsupported arguments: ${args.join(' ')}\n`);
}
