import {Flags} from '@oclif/core';

/** Flags that set configuration values for commands that create sessions (SPEC.md section 7). */
export const creationSettingFlags = {
  image: Flags.string({description: 'workspace image (env SANDMAN_IMAGE; default sandman/workspace:latest)'}),
  'workspace-root': Flags.string({
    description: 'where workspaces live on the host (default /srv/workspaces)',
  }),
  'ssh-port-start': Flags.string({description: 'first host port for SSH (default 10000)'}),
  'ssh-port-end': Flags.string({description: 'last host port for SSH (default 20000)'}),
  'ssh-host': Flags.string({
    description: 'host name printed in connection details (default: this host FQDN)',
  }),
  cpus: Flags.string({description: 'CPU limit, e.g. 4 or 0.5 (default none)'}),
  memory: Flags.string({description: 'memory limit, e.g. 16g (default none)'}),
  pids: Flags.string({description: 'process limit (default 1024)'}),
};
