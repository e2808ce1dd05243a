import type Dockerode from 'dockerode';

import type {ContainerSpec} from '../container-client.js';

/** A session's container as the engine's create call takes it (docs/reference/commands.md: the container). */
export function createOptions(spec: ContainerSpec): Dockerode.ContainerCreateOptions {
  return {
    name: spec.name,
    Image: spec.image,
    Hostname: spec.hostname,
    Labels: spec.labels,
    Env: spec.env,
    ...(spec.job ? {Cmd: spec.job.command} : {}),
    ExposedPorts: spec.job ? {} : {'22/tcp': {}},
    HostConfig: {
      NetworkMode: spec.network,
      PortBindings:
        spec.hostPort === undefined
          ? {}
          : {'22/tcp': [{HostIp: spec.bindAddress, HostPort: String(spec.hostPort)}]},
      Mounts: [
        {
          Type: spec.mount.volume ? 'volume' : 'bind',
          Source: spec.mount.source,
          Target: spec.mount.target,
          ReadOnly: false,
        },
        ...[spec.keyMount, spec.filesMount].flatMap((mount) =>
          mount ? [{Type: 'bind' as const, Source: mount.source, Target: mount.target, ReadOnly: true}] : [],
        ),
      ],
      CapDrop: ['ALL'],
      CapAdd: spec.capAdd,
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      PidsLimit: spec.pidsLimit,
      Memory: spec.memoryBytes,
      ...(spec.diskBytes === undefined ? {} : {StorageOpt: {size: String(spec.diskBytes)}}),
      NanoCpus: spec.nanoCpus,
      // A host reboot brings sessions back until they expire; `rm`/`reap` remove them for good.
      // A job runs once (docs/admin/jobs.md): no restart, an init that passes signals on to its
      // command, and the engine's log rotated at four times the limit (its JSON lines are larger
      // than the output they hold), so the newest jobLogLimit of output is there to keep.
      RestartPolicy: {Name: spec.job ? 'no' : 'unless-stopped'},
      ...(spec.job
        ? {
            Init: true,
            LogConfig: {
              Type: 'json-file',
              Config: {'max-size': String(Math.max(4096, spec.job.logBytes)), 'max-file': '4'},
            },
          }
        : {}),
      DeviceRequests: spec.gpuUuid
        ? [{Driver: '', Count: 0, DeviceIDs: [spec.gpuUuid], Capabilities: [['gpu']], Options: {}}]
        : undefined,
    },
  };
}
