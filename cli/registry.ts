/**
 * Every sandman command, once: its words, help, arguments and flags, and where its handler lives.
 * Both doors read this table (README "How the CLI is built"); adding a command or a flag is one
 * entry here, and a flag that sets a configuration value is one entry in src/config.ts's SETTINGS.
 */
import {SETTINGS, settingHelp, setupFlagName, type SettingName} from '../src/config.js';
import {USER_EXCLUSIVE, USER_FLAGS} from '../commands/user/user-flags.js';
import type {CommandSpec, FlagSpec} from './command-spec.js';
import {sshKeyFlag} from './key-file.js';

/** The flag that sets a setting, as the settings table declares it (name, aliases, help). */
function settingFlag(setting: SettingName): [string, FlagSpec] {
  const {flag, flagAliases} = SETTINGS[setting];
  if (!flag) throw new Error(`setting ${setting} has no flag`);
  return [flag, {kind: 'string', description: settingHelp(setting), aliases: flagAliases, setting}];
}

/** Every command has --json (oclif's json flag) and these. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = Object.fromEntries([settingFlag('stateFile')]);

/** `session create` takes a flag for every setting that declares one (but the global state file). */
const CREATION_SETTING_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(SETTINGS) as SettingName[])
    .filter((setting) => SETTINGS[setting].flag && setting !== 'stateFile')
    .map(settingFlag),
);

/** `setup` takes a flag for every setting an admin sets at install: what it is given it keeps. */
const SETUP_SETTING_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(SETTINGS) as SettingName[])
    .filter((setting) => setting !== 'stateFile')
    .map((setting) => [
      setupFlagName(setting),
      {
        kind: 'string',
        description: settingHelp(setting),
        aliases: SETTINGS[setting].flagAliases,
        setting,
      } satisfies FlagSpec,
    ]),
);

const SESSION_ARG = {
  name: 'session',
  description: 'session ID, unique ID prefix, or user name',
  required: true,
};

export const COMMAND_TABLE: CommandSpec[] = [
  {
    id: 'session:create',
    summary: 'Start a workspace container for USER and print how to connect',
    description:
      'Allocates an SSH port and a GPU slice, creates the workspace, starts the container and waits until SSH answers.',
    examples: [
      '<%= config.bin %> session create alice --profile 3g.20gb --ttl 2h',
      '<%= config.bin %> session create bob --no-gpu --ttl 90m --json',
      'cat ~/.ssh/id_ed25519.pub | <%= config.bin %> session create carol --ssh-key - --no-gpu',
    ],
    args: [
      {name: 'user', description: 'login name of the session user (asked for on a terminal when left out)'},
    ],
    flags: {
      ttl: {
        kind: 'string',
        description: 'lifetime: 90m, 2h, 1d, or minutes as a number (default defaultTtl)',
      },
      profile: {kind: 'string', description: 'a free MIG device of this profile, e.g. 3g.20gb'},
      'mig-instance': {kind: 'string', description: 'this exact MIG device (UUID)'},
      gpu: {kind: 'string', description: 'a whole GPU not in MIG mode (UUID, index, or any)'},
      'no-gpu': {kind: 'boolean', description: 'no GPU at all'},
      'ssh-key': sshKeyFlag('install this public key instead of making a key pair'),
      password: {
        kind: 'boolean',
        description: 'also allow password login; a random password is printed once',
      },
      env: {
        kind: 'string',
        description: 'environment variable for the session, KEY=VALUE (repeatable)',
        multiple: true,
      },
      'no-wait': {
        kind: 'boolean',
        description:
          'return as soon as the container started (or, with --queue, was queued), without waiting',
      },
      queue: {
        kind: 'boolean',
        description: 'when nothing of the asked kind is free, wait in line instead of exit 5',
      },
      node: {
        kind: 'string',
        description: "swarm mode: the node for the user's first session; their home stays there",
      },
      ...CREATION_SETTING_FLAGS,
    },
    // The GPU choices (README "GPUs and MIG").
    exclusive: ['profile', 'mig-instance', 'gpu', 'no-gpu'],
    fast: true,
    load: () => import('../commands/session/create.js'),
  },
  {
    id: 'session:ls',
    summary: 'List sessions',
    hiddenAliases: ['session:list'],
    examples: [
      '<%= config.bin %> session ls',
      '<%= config.bin %> session ls --user alice --json',
      '<%= config.bin %> session ls -q | xargs -r <%= config.bin %> session rm',
    ],
    flags: {
      quiet: {kind: 'boolean', char: 'q', description: 'print session IDs only'},
      user: {kind: 'string', description: "only this user's sessions"},
      expired: {kind: 'boolean', description: 'only sessions past their expiry (what the next reap removes)'},
    },
    fast: true,
    load: () => import('../commands/session/ls.js'),
  },
  {
    id: 'session:show',
    summary: 'Show one session in full',
    examples: ['<%= config.bin %> session show alice', '<%= config.bin %> session show 7f3a --json'],
    args: [SESSION_ARG],
    fast: true,
    load: () => import('../commands/session/show.js'),
  },
  {
    id: 'session:rm',
    summary: 'Remove sessions (the workspace is kept)',
    description:
      'Removes the container, releases the GPU slice and port, deletes the key and the record. ' +
      "The user's workspace is never deleted.",
    hiddenAliases: ['session:remove'],
    examples: [
      '<%= config.bin %> session rm alice',
      '<%= config.bin %> session rm 7f3a9c2e1b04 bob',
      '<%= config.bin %> session rm --all --yes',
    ],
    args: [{name: 'sessions', description: 'session IDs, unique ID prefixes or user names'}],
    variadic: true,
    flags: {
      all: {kind: 'boolean', description: 'remove every session'},
      yes: {
        kind: 'boolean',
        char: 'y',
        description: 'do not ask for confirmation (needed for --all without a terminal)',
      },
    },
    fast: true,
    load: () => import('../commands/session/rm.js'),
  },
  {
    id: 'session:extend',
    summary: 'Push a session’s expiry further out',
    description: 'Adds --ttl to the current expiry, up to maxTtl after the session was created.',
    examples: [
      '<%= config.bin %> session extend alice --ttl 30m',
      '<%= config.bin %> session extend 7f3a --ttl 1d --json',
    ],
    args: [SESSION_ARG],
    flags: {
      ttl: {
        kind: 'string',
        description: 'how much longer: 30m, 2h, 1d, or minutes as a number',
        required: true,
      },
    },
    fast: true,
    load: () => import('../commands/session/extend.js'),
  },
  {
    id: 'session:terminal',
    summary: 'Print a one-time link to a browser terminal in a session',
    description:
      'The link works once, until --ttl (terminalLinkTtl) or the session’s end; whoever opens it gets a shell ' +
      'in that one session in the browser, with no account and no SSH client. It is made from apiPublicUrl ' +
      '(README "In the browser").',
    examples: [
      '<%= config.bin %> session terminal alice',
      '<%= config.bin %> session terminal 7f3a --ttl 1h --json',
    ],
    args: [SESSION_ARG],
    flags: {
      ttl: {kind: 'string', description: 'how long the link works unless used: 15m, 2h (terminalLinkTtl)'},
    },
    fast: true,
    load: () => import('../commands/session/terminal.js'),
  },
  {
    id: 'session:stop',
    summary: 'Stop a session: its GPU is freed, its container, files, port and keys are kept',
    description:
      'The container stops with its writable layer; the GPU device goes back after gpuHoldAfterStop; the TTL ' +
      'clock pauses. A stopped session is removed stoppedRetention after it stopped (README "Stop and start").',
    examples: ['<%= config.bin %> session stop alice', '<%= config.bin %> session stop 7f3a --json'],
    args: [SESSION_ARG],
    fast: true,
    load: () => import('../commands/session/stop.js'),
  },
  {
    id: 'session:start',
    summary: 'Start a stopped session again, on its own GPU device when still free',
    description:
      'Gets a device of the session’s profile (its own when free, else another: the stopped container is ' +
      'committed and made again on it, same port, keys, host key and home); none free: exit 5.',
    examples: [
      '<%= config.bin %> session start alice',
      '<%= config.bin %> session start 7f3a --queue --json',
    ],
    args: [SESSION_ARG],
    flags: {
      queue: {
        kind: 'boolean',
        description:
          'nothing free: wait in line (started by whatever frees a device of its kind) instead of exit 5',
      },
    },
    fast: true,
    load: () => import('../commands/session/start.js'),
  },
  {
    id: 'session:logs',
    summary: "Show a session container's logs (sshd and the entrypoint)",
    examples: [
      '<%= config.bin %> session logs alice',
      '<%= config.bin %> session logs alice -f',
      '<%= config.bin %> session logs 7f3a --tail 20 --json',
    ],
    args: [SESSION_ARG],
    flags: {
      follow: {kind: 'boolean', char: 'f', description: 'keep streaming new lines until interrupted'},
      tail: {kind: 'integer', description: 'only the last N lines', min: 0},
    },
    fast: true,
    load: () => import('../commands/session/logs.js'),
  },
  {
    id: 'ssh',
    summary: "Open an SSH shell in a user's session (or run one command there)",
    description:
      'Runs the OpenSSH client with the session key, port and host. Everything after -- is the remote command.',
    examples: [
      '<%= config.bin %> ssh alice',
      '<%= config.bin %> ssh alice -- nvidia-smi -L',
      '<%= config.bin %> ssh alice --json -- id -un',
    ],
    args: [{name: 'session', description: 'user name, session ID or unique ID prefix', required: true}],
    variadic: true,
    fast: true,
    load: () => import('../commands/ssh.js'),
  },
  {
    id: 'known-hosts',
    summary: 'Print the @cert-authority line that trusts every session of this host',
    description:
      'Add it once to known_hosts (or the file ssh-config names): every session on this host, on any port, ' +
      'then connects with StrictHostKeyChecking=yes and no prompt.',
    examples: [
      '<%= config.bin %> known-hosts >> ~/.ssh/known_hosts',
      '<%= config.bin %> known-hosts --json | jq -r ".lines[]"',
    ],
    flags: Object.fromEntries([settingFlag('sshHost')]),
    fast: true,
    load: () => import('../commands/known-hosts.js'),
  },
  {
    id: 'ssh-config',
    summary: 'Print an OpenSSH Host block for a session (plain ssh, scp, sftp, VS Code Remote-SSH)',
    examples: [
      '<%= config.bin %> ssh-config alice >> ~/.ssh/config && ssh sandman-alice',
      '<%= config.bin %> ssh-config alice --identity-file ~/.ssh/sandman-alice --json',
      '<%= config.bin %> ssh-config alice --gateway --identity-file ~/.ssh/id_ed25519',
    ],
    args: [SESSION_ARG],
    flags: {
      gateway: {
        kind: 'boolean',
        description:
          "through the SSH gateway: USER's block for every session they will have (no session needed)",
      },
      alias: {kind: 'string', description: 'the Host name to connect with (default sandman-USER)'},
      'identity-file': {
        kind: 'string',
        description:
          "the private key's path on the machine that connects (default: the session key's path here)",
      },
      'known-hosts-file': {
        kind: 'string',
        description: 'where the connecting machine keeps the known-hosts line',
        default: '~/.ssh/known_hosts',
      },
    },
    fast: true,
    load: () => import('../commands/ssh-config.js'),
  },
  {
    id: 'user:add',
    summary: 'Register a user: public keys, group, defaults for new sessions, limits',
    description:
      "A registered user's keys are what their sessions accept when create gets no --ssh-key (no private key is " +
      "made); their defaults fill in what create leaves open; their limits override the group's and the settings.",
    examples: [
      '<%= config.bin %> user add alice --ssh-key alice.pub --group students --profile 3g.20gb --ttl 4h',
      '<%= config.bin %> user add bob --ssh-key bob-laptop.pub --ssh-key bob-desktop.pub --gpu-hours 40h/7d',
    ],
    args: [{name: 'name', description: 'login name', required: true}],
    flags: USER_FLAGS,
    exclusive: USER_EXCLUSIVE,
    fast: true,
    load: () => import('../commands/user/add.js'),
  },
  {
    id: 'user:set',
    summary: "Change a user's keys (adds), group, defaults or limits",
    description:
      'Only what is given changes. "inherit" removes a limit of the user\'s own; --group "" leaves the group.',
    examples: [
      '<%= config.bin %> user set alice --max-sessions 2 --max-ttl 2d',
      '<%= config.bin %> user set alice --gpu-hours inherit --group ""',
    ],
    args: [{name: 'name', description: 'login name', required: true}],
    flags: USER_FLAGS,
    exclusive: USER_EXCLUSIVE,
    fast: true,
    load: () => import('../commands/user/set.js'),
  },
  {
    id: 'user:show',
    summary: 'Show a user: keys, group, defaults, each limit and where it comes from, GPU-hours used',
    examples: ['<%= config.bin %> user show alice', '<%= config.bin %> user show alice --json'],
    args: [{name: 'name', description: 'login name', required: true}],
    fast: true,
    load: () => import('../commands/user/show.js'),
  },
  {
    id: 'user:ls',
    summary: 'List registered users',
    hiddenAliases: ['user:list'],
    examples: ['<%= config.bin %> user ls', '<%= config.bin %> user ls --json'],
    fast: true,
    load: () => import('../commands/user/ls.js'),
  },
  {
    id: 'user:rm',
    summary: "Forget a user's registration (never their home)",
    description: 'Refuses while the user has sessions (exit 4) unless --force, which removes them first.',
    hiddenAliases: ['user:remove'],
    examples: ['<%= config.bin %> user rm alice', '<%= config.bin %> user rm alice --force'],
    args: [{name: 'name', description: 'login name', required: true}],
    flags: {force: {kind: 'boolean', description: "remove the user's sessions first (homes kept)"}},
    fast: true,
    load: () => import('../commands/user/rm.js'),
  },
  {
    id: 'user:key:add',
    summary: "Add public keys to a user's registered keys",
    examples: [
      '<%= config.bin %> user key add alice ~/alice-new.pub',
      'cat id.pub | <%= config.bin %> user key add alice -',
    ],
    args: [
      {name: 'name', description: 'login name', required: true},
      {name: 'file', description: "public key file ('-' reads stdin)", required: true},
    ],
    fast: true,
    load: () => import('../commands/user/key/add.js'),
  },
  {
    id: 'user:key:rm',
    summary: "Remove one of a user's keys by its fingerprint",
    examples: ['<%= config.bin %> user key rm alice SHA256:Ew0y4jGJ6jRLpqzGk1G2bYXnDZcO2m2J1V0kcQ1cD9g'],
    args: [
      {name: 'name', description: 'login name', required: true},
      {
        name: 'fingerprint',
        description: 'SHA256:… as user key ls (or ssh-keygen -lf) prints it',
        required: true,
      },
    ],
    fast: true,
    load: () => import('../commands/user/key/rm.js'),
  },
  {
    id: 'user:key:ls',
    summary: "List a user's keys with their fingerprints",
    examples: ['<%= config.bin %> user key ls alice'],
    args: [{name: 'name', description: 'login name', required: true}],
    fast: true,
    load: () => import('../commands/user/key/ls.js'),
  },
  {
    id: 'network:status',
    summary: 'Show the firewall rules that keep sessions away from the host and each other',
    description:
      'Exits 1 when a rule is missing or altered (after a firewall reload or a reboot); "sandman reap" restores them.',
    examples: ['<%= config.bin %> network status', '<%= config.bin %> network status --json'],
    fast: true,
    load: () => import('../commands/network/status.js'),
  },
  {
    id: 'gpu:ls',
    summary: 'List GPUs, their MIG devices and which session holds each',
    hiddenAliases: ['gpu:list'],
    examples: [
      '<%= config.bin %> gpu ls',
      '<%= config.bin %> gpu ls --json | jq ".[].mig_devices[] | select(.session_id == null)"',
    ],
    fast: true,
    load: () => import('../commands/gpu/ls.js'),
  },
  {
    id: 'gpu:profiles',
    summary: 'MIG profiles the GPUs support, with memory, slices and free/total counts',
    description:
      'DEVICES counts the MIG devices that exist (pool mode hands these out); INSTANCES is what nvidia-smi could still create (dynamic mode).',
    examples: ['<%= config.bin %> gpu profiles', '<%= config.bin %> gpu profiles --json'],
    fast: true,
    load: () => import('../commands/gpu/profiles.js'),
  },
  {
    id: 'gpu:available',
    summary: 'MIG devices and whole GPUs that no session holds',
    description: 'In dynamic MIG mode, also what sandman could still create on demand.',
    examples: [
      '<%= config.bin %> gpu available',
      '<%= config.bin %> gpu available --json | jq -r ".devices[].uuid"',
    ],
    fast: true,
    load: () => import('../commands/gpu/available.js'),
  },
  {
    id: 'reap',
    summary: 'Remove expired sessions and repair drift between the state file and Docker',
    description:
      'Removes expired sessions, containers of this instance without a record, records whose container is gone, ' +
      'creates that died half-way, and idle sessions when idleTimeout is set; warns terminals before expiry. ' +
      'Workspaces are kept. Safe to run concurrently and every minute (see "sandman systemd print").',
    examples: ['<%= config.bin %> reap', '<%= config.bin %> reap --dry-run', '<%= config.bin %> reap --json'],
    flags: {'dry-run': {kind: 'boolean', description: 'show what would be done, change nothing'}},
    fast: true,
    load: () => import('../commands/reap.js'),
  },
  {
    id: 'doctor',
    summary: 'Check the host: Docker, image, network, GPUs, state file, port range, reaper',
    description: 'Exits 1 when a check fails; warnings do not change the exit code.',
    examples: [
      '<%= config.bin %> doctor',
      '<%= config.bin %> doctor --json | jq -r \'.checks[] | select(.status != "ok") | .name\'',
    ],
    flags: {
      'unit-dir': {
        kind: 'string',
        description: "where the reaper units are installed (default: where setup put them, else systemd's)",
      },
      'cron-file': {
        kind: 'string',
        description:
          'cron file that runs the reaper instead (default: where setup put it, else /etc/cron.d/sandman)',
      },
    },
    fast: true,
    load: () => import('../commands/doctor.js'),
  },
  {
    id: 'api',
    summary:
      'Serve the HTTP API on the sockets systemd passes (exits when idle), or on --listen until SIGTERM',
    description:
      'Started by systemd socket activation (sandman systemd install --api); serves until apiIdleTimeout passes without a request. ' +
      'Without systemd, --listen HOST:PORT binds the address itself and serves in the foreground under a supervisor (README "Without systemd").',
    examples: [
      'systemd-socket-activate -l /run/sandman/api.sock <%= config.bin %> api',
      '<%= config.bin %> api --listen 127.0.0.1:8080',
    ],
    flags: {
      listen: {
        kind: 'string',
        description:
          'bind HOST:PORT itself and serve in the foreground until SIGTERM (a supervisor without systemd); needs apiTokenFile',
      },
    },
    fast: true,
    load: () => import('../commands/api.js'),
  },
  {
    id: 'gateway',
    summary: 'The SSH gateway for one connection; started per connection by systemd socket activation',
    description:
      'ssh -p gatewayPort USER@host logs USER in with their registered keys, starts their session when they ' +
      'have none and relays to it (README "The SSH gateway"). Install with sandman setup --gateway; without systemd, ' +
      '--listen HOST:PORT serves every connection in the foreground under a supervisor (README "Without systemd").',
    examples: [
      'systemd-socket-activate --accept -l 2200 <%= config.bin %> gateway',
      '<%= config.bin %> gateway --listen 0.0.0.0:2200',
    ],
    flags: {
      listen: {
        kind: 'string',
        description:
          'accept every connection on HOST:PORT in the foreground until SIGTERM (a supervisor without systemd)',
      },
    },
    fast: true,
    load: () => import('../commands/gateway.js'),
  },
  {
    id: 'usage',
    summary: 'Session-hours and GPU-hours per user, profile, GPU or day over a period',
    description:
      'From the audit log (rotated and gzipped files too) and the sessions still running, clipped to the period. ' +
      'A MIG slice counts as its share of the GPU (3g.20gb on a 7-slice GPU: 3/7), a whole GPU as 1.',
    examples: [
      '<%= config.bin %> usage',
      '<%= config.bin %> usage --since 2026-11-01 --until 2026-12-01 --by profile',
      '<%= config.bin %> usage --by day --csv > usage.csv',
    ],
    flags: {
      since: {
        kind: 'string',
        description: 'start: a date (2026-11-01) or a duration back from now (30d)',
        default: '30d',
      },
      until: {kind: 'string', description: 'end: a date or a duration back from now (default now)'},
      by: {kind: 'string', description: 'group by user, profile, gpu or day', default: 'user'},
      csv: {kind: 'boolean', description: 'comma-separated values, for a spreadsheet'},
    },
    fast: true,
    load: () => import('../commands/usage.js'),
  },
  {
    id: 'setup',
    summary: 'Set up this host (directories, image, reaper, network, firewall, config file), or undo it',
    description:
      'Each step checks first and changes only what is missing: a second run changes nothing and says so. ' +
      'Settings given as flags are kept in the config file, with their types (values already there stay unless ' +
      '--force); where the reaper went (--unit-dir, systemd or cron) is remembered for later runs and for doctor. ' +
      '--remove undoes what setup made (reaper, firewall rules, network, the image it built); homes, the state ' +
      'file and the CA stay unless --purge.',
    examples: [
      '<%= config.bin %> setup --base nvidia/cuda:12.6.3-runtime-ubuntu24.04 --ssh-host gpu01.example.org',
      '<%= config.bin %> setup --dry-run',
      '<%= config.bin %> setup --remove --dry-run',
      '<%= config.bin %> setup --remove --purge --force --yes',
    ],
    flags: {
      base: {kind: 'string', description: 'base image, when the workspace image has to be built'},
      gateway: {
        kind: 'boolean',
        description:
          "also the SSH gateway: its keys, and its socket (gatewayPort) and service beside the reaper's units; remembered",
      },
      'unit-dir': {
        kind: 'string',
        description: 'write the reaper units here and enable nothing (remembered; default: systemd or cron)',
      },
      'cron-file': {
        kind: 'string',
        description:
          'cron file for the reaper on a host without systemd (remembered; default /etc/cron.d/sandman)',
      },
      'dry-run': {kind: 'boolean', description: 'print each step it would take, change nothing'},
      force: {
        kind: 'boolean',
        description:
          'replace values already in the config file; with --remove, remove running sessions first',
      },
      remove: {kind: 'boolean', description: 'undo what setup made (homes, state file and CA stay)'},
      purge: {
        kind: 'boolean',
        description: 'with --remove: also the homes, the state file, keys and CA (asks on a terminal)',
      },
      yes: {kind: 'boolean', char: 'y', description: 'do not ask before --purge (needed without a terminal)'},
      ...SETUP_SETTING_FLAGS,
    },
    fast: true,
    writesConfigFile: true,
    load: () => import('../commands/setup.js'),
  },
  {
    id: 'node:setup',
    summary:
      'Swarm mode: set up this node (GPUs as generic resources, NVIDIA runtime, network, firewall and its timer)',
    description:
      'Run on every swarm node, managers included (README "Swarm mode"). Reads the local nvidia-smi and prints the ' +
      "daemon.json node-generic-resources and nvidia-container-runtime's swarm-resource it needs; with --apply " +
      "it writes them, makes the sessions' configuration network, puts the firewall rules in place and installs " +
      'a timer of its own that keeps them. Restart dockerd when daemon.json changed.',
    examples: [
      '<%= config.bin %> node setup',
      '<%= config.bin %> node setup --apply && systemctl restart docker',
    ],
    flags: {
      apply: {kind: 'boolean', description: 'write the files and make the changes (without it: print them)'},
      'firewall-only': {kind: 'boolean', description: "only the firewall rules (what the node's timer runs)"},
      'daemon-json': {
        kind: 'string',
        description: "dockerd's configuration file",
        default: '/etc/docker/daemon.json',
      },
      'runtime-config': {
        kind: 'string',
        description: "nvidia-container-runtime's configuration file",
        default: '/etc/nvidia-container-runtime/config.toml',
      },
      'unit-dir': {kind: 'string', description: 'write the timer units here (and enable nothing)'},
    },
    fast: true,
    load: () => import('../commands/node/setup.js'),
  },
  {
    id: 'image:build',
    summary: 'Build the workspace image from images/workspace',
    description:
      'The image is BASE plus an SSH server, the tools users need (rsync, curl, git, python3 with venv, tmux, less, ' +
      'a UTF-8 locale) and the sandman entrypoint. On GPU hosts use an nvidia/cuda base. ' +
      'In swarm mode it is built on the manager: push it to a registry the nodes pull from, or ' +
      'docker save IMAGE | ssh NODE docker load on every node (doctor checks that it runs on each).',
    examples: [
      '<%= config.bin %> image build',
      '<%= config.bin %> image build --base nvidia/cuda:12.6.3-runtime-ubuntu24.04 --tag sandman/workspace:cuda12.6',
      '<%= config.bin %> image build --base debian:bookworm --tag sandman/workspace:cpu',
      '<%= config.bin %> image build --packages "build-essential htop" --dockerfile site-tools.dockerfile',
    ],
    flags: {
      base: {kind: 'string', description: 'base image (default nvidia/cuda:12.6.3-runtime-ubuntu24.04)'},
      packages: {
        kind: 'string',
        description:
          'more of the base\'s own packages, installed with its apt-get, dnf or apk ("rsync python3-dev")',
      },
      'no-default-packages': {
        kind: 'boolean',
        description: 'leave out the default tools (rsync, curl, git, python3, tmux, less, a locale)',
      },
      dockerfile: {
        kind: 'string',
        description: "a file of Dockerfile instructions appended to sandman's (RUN, ENV, ...)",
      },
      tag: {
        kind: 'string',
        description: `tag to build (default: the configured image, ${String(SETTINGS.image.default)})`,
        setting: 'image',
      },
    },
    fast: true,
    load: () => import('../commands/image/build.js'),
  },
  {
    id: 'systemd:print',
    summary: "Print the reaper's systemd service and timer (and the cron alternative)",
    flags: {
      api: {kind: 'boolean', description: "the API's .socket and .service instead of the reaper's units"},
      gateway: {
        kind: 'boolean',
        description: "the SSH gateway's .socket and .service@ instead of the reaper's units",
      },
    },
    examples: [
      '<%= config.bin %> systemd print',
      '<%= config.bin %> systemd print --json | jq -r \'.units["sandman-reap.timer"]\'',
    ],
    fast: true,
    load: () => import('../commands/systemd/print.js'),
  },
  {
    id: 'systemd:install',
    summary: "Write the reaper's systemd service and timer to DIR",
    examples: [
      '<%= config.bin %> systemd install && systemctl daemon-reload && systemctl enable --now sandman-reap.timer',
      '<%= config.bin %> systemd install --dir /tmp/units',
    ],
    flags: {
      dir: {kind: 'string', description: 'where to write the units', default: '/etc/systemd/system'},
      api: {kind: 'boolean', description: "the API's .socket and .service instead of the reaper's units"},
      gateway: {
        kind: 'boolean',
        description: "the SSH gateway's .socket and .service@ instead of the reaper's units",
      },
    },
    fast: true,
    load: () => import('../commands/systemd/install.js'),
  },
];
