import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman node setup`: help, arguments and flags (data only); its handler is setup.ts. */
const spec: CommandSpec = {
  id: 'node:setup',
  summary:
    'Swarm mode: set up this node (GPUs as generic resources, NVIDIA runtime, network, firewall and its timer)',
  description:
    'Run on every swarm node, managers included (docs/admin/swarm.md). Reads the local nvidia-smi and prints the ' +
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
  load: () => import('./setup.js'),
};

export default spec;
