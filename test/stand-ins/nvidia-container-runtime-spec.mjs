// Part of the nvidia-container-runtime stand-in: rewrites an OCI spec as the real runtime does when
// `swarm-resource` names the DOCKER_RESOURCE_* variables Swarm sets (comma-separated), read from
// $XDG_CONFIG_HOME/nvidia-container-runtime/config.toml (the real runtime's place; /etc without it).
import {readFileSync, writeFileSync} from 'node:fs';

const [specPath, hookPath] = process.argv.slice(2);
const configDir = process.env.XDG_CONFIG_HOME ?? '/etc';
let names = [];
try {
  const toml = readFileSync(`${configDir}/nvidia-container-runtime/config.toml`, 'utf8');
  const line = /^\s*swarm-resource\s*=\s*"([^"]*)"/m.exec(toml);
  if (line)
    names = line[1]
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
} catch {
  // No configuration: like the real runtime, nothing is taken from Swarm.
}
const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const env = spec.process?.env ?? [];
const devices = env.flatMap((entry) => {
  const name = entry.slice(0, entry.indexOf('='));
  return names.includes(name)
    ? entry
        .slice(name.length + 1)
        .split(',')
        .filter(Boolean)
    : [];
});
if (devices.length > 0) {
  spec.process.env = [
    ...env.filter((entry) => !entry.startsWith('NVIDIA_VISIBLE_DEVICES=')),
    `NVIDIA_VISIBLE_DEVICES=${devices.join(',')}`,
  ];
  spec.hooks ??= {};
  spec.hooks.prestart = [
    ...(spec.hooks.prestart ?? []),
    {path: hookPath, args: ['nvidia-container-runtime-hook', 'prestart']},
  ];
  writeFileSync(specPath, JSON.stringify(spec));
}
