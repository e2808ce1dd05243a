import {readdir} from 'node:fs/promises';
import {PassThrough} from 'node:stream';
import {finished} from 'node:stream/promises';

import type Dockerode from 'dockerode';

import {dependencyUnavailable, httpStatus, SandmanError} from '../../../core/errors.js';
import type {NodeNetworks} from '../../../swarm/node-setup.js';
import type {
  ContainerClient,
  ContainerFile,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  ExecResult,
  InContainerClient,
  RemoveOutcome,
} from '../container-client.js';
import type {Engine} from '../engine-client.js';
import type {ImageClient} from '../image-client.js';
import type {NetworkClient} from '../network-client.js';
import {createOptions} from './dockerode-create-options.js';
import {absentIfGone, dockerCall, dockerMessage, readLogs, type DockerCall} from './dockerode-engine.js';

/** One engine's containers, images and networks (each port beside container-client.ts), through dockerode. */
export class DockerodeContainerClient
  implements Engine, ContainerClient, InContainerClient, ImageClient, NetworkClient, NodeNetworks
{
  readonly #call: DockerCall;

  constructor(call: DockerCall = dockerCall()) {
    this.#call = call;
  }

  async ping(): Promise<void> {
    await this.#call('reach the engine', (docker) => docker.ping());
  }

  async imageExists(reference: string): Promise<boolean> {
    return (await this.imageLabels(reference)) !== undefined;
  }

  async imageLabels(reference: string): Promise<Record<string, string> | undefined> {
    return this.#call(`inspect image ${reference}`, async (docker) => {
      try {
        return (await docker.getImage(reference).inspect()).Config?.Labels ?? {};
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async storage(): Promise<{driver: string; backingFilesystem: string | null}> {
    return this.#call('read the engine information', async (docker) => {
      const info = (await docker.info()) as {Driver?: string; DriverStatus?: Array<[string, string]>};
      const backing = (info.DriverStatus ?? []).find(([key]) => key === 'Backing Filesystem')?.[1] ?? null;
      return {driver: info.Driver ?? 'unknown', backingFilesystem: backing};
    });
  }

  async networkIcc(name: string): Promise<boolean | undefined> {
    return this.#call(`inspect network ${name}`, async (docker) => {
      try {
        const info = (await docker.getNetwork(name).inspect()) as {Options?: Record<string, string>};
        return info.Options?.['com.docker.network.bridge.enable_icc'] !== 'false';
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async networkBridge(name: string): Promise<string | undefined> {
    return this.#call(`inspect network ${name}`, async (docker) => {
      try {
        const network = await docker.getNetwork(name).inspect();
        return network.Options?.['com.docker.network.bridge.name'] ?? `br-${String(network.Id).slice(0, 12)}`;
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<string[]> {
    return this.#call(`create network ${name}`, async (docker) => {
      try {
        return gatewaysOf(await docker.getNetwork(name).inspect());
      } catch (error) {
        if (httpStatus(error) !== 404) throw error;
      }
      try {
        await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: labels,
          // Sessions must not reach each other: no traffic between containers on this bridge.
          Options: {'com.docker.network.bridge.enable_icc': 'false'},
        });
      } catch (error) {
        // Another sandman process created it between our inspect and create.
        if (httpStatus(error) !== 409) throw error;
      }
      return gatewaysOf(await docker.getNetwork(name).inspect());
    });
  }

  async removeNetwork(name: string, labels: Record<string, string>): Promise<RemoveOutcome | 'foreign'> {
    return this.#call(`remove network ${name}`, async (docker) => {
      let info: {Labels?: Record<string, string>};
      try {
        info = (await docker.getNetwork(name).inspect()) as typeof info;
      } catch (error) {
        if (httpStatus(error) === 404) return 'absent';
        throw error;
      }
      if (!Object.entries(labels).every(([key, value]) => info.Labels?.[key] === value)) return 'foreign';
      return absentIfGone(() => docker.getNetwork(name).remove());
    });
  }

  async removeImage(reference: string): Promise<RemoveOutcome> {
    return this.#call(`remove image ${reference}`, (docker) =>
      absentIfGone(() => docker.getImage(reference).remove()),
    );
  }

  async networkOptions(name: string): Promise<Record<string, string> | undefined> {
    return this.#call(`inspect network ${name}`, async (docker) => {
      try {
        return (
          ((await docker.getNetwork(name).inspect()) as {Options?: Record<string, string>}).Options ?? {}
        );
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async createConfigOnlyNetwork(name: string, options: Record<string, string>): Promise<void> {
    await this.#call(`create network ${name}`, (docker) =>
      docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        ConfigOnly: true,
        Options: options,
      } as Dockerode.NetworkCreateOptions),
    );
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const id = await this.#call(`create container ${spec.name}`, async (docker) => {
      const container = await docker.createContainer(createOptions(spec)).catch((error: unknown) => {
        // The engine decides whether it can limit a container's layer (docs/admin/disk-quotas.md).
        if (spec.diskBytes !== undefined && /storage-opt|storage opt/i.test((error as Error).message))
          throw dependencyUnavailable(
            `containerDiskLimit cannot be enforced by this engine: ${dockerMessage(error)}; ` +
              'it needs the overlay2 driver on XFS mounted with pquota (or unset containerDiskLimit)',
          );
        // A plain base image (debootstrap | docker import, a registry's base) has no command at all.
        if (httpStatus(error) === 400 && /no command specified/i.test((error as Error).message))
          throw dependencyUnavailable(
            `image ${spec.image} has no command: it was not built with "sandman image build", so it lacks the ` +
              `sandman entrypoint and SSH server; build it with "sandman image build --base ${spec.image} --tag ` +
              `sandman/workspace:latest" and use that tag (docs/admin/troubleshooting.md)`,
          );
        throw error;
      });
      return container.id;
    });
    await this.putFiles(id, spec.files);
    return id;
  }

  async startContainer(id: string): Promise<void> {
    await this.#call(`start container ${id.slice(0, 12)}`, (docker) => docker.getContainer(id).start());
  }

  async stopContainer(id: string, graceSeconds = 10): Promise<void> {
    await this.#call(`stop container ${id.slice(0, 12)}`, async (docker) => {
      try {
        // sshd and the user's processes get SIGTERM, then 10 s, as `docker stop` gives them.
        await docker.getContainer(id).stop({t: graceSeconds});
      } catch (error) {
        // 304: already stopped.
        if (httpStatus(error) !== 304) throw error;
      }
    });
  }

  async commitContainer(id: string, reference: string): Promise<string> {
    const colon = reference.lastIndexOf(':');
    return this.#call(`commit container ${id.slice(0, 12)}`, async (docker) => {
      const result = (await docker.getContainer(id).commit({
        repo: reference.slice(0, colon),
        tag: reference.slice(colon + 1),
        pause: false,
      })) as {Id: string};
      return result.Id;
    });
  }

  async putFiles(id: string, files: ContainerFile[]): Promise<void> {
    if (files.length === 0) return;
    // tar-stream is CommonJS: its functions sit on the namespace or, once bundled, on `default`.
    const loaded = await import('tar-stream');
    const {pack} = 'pack' in loaded ? loaded : (loaded as unknown as {default: typeof loaded}).default;
    const archive = pack();
    // Extracted at /: Docker makes missing parent directories.
    for (const file of files)
      archive.entry({name: file.path.replace(/^\/+/, ''), mode: file.mode, uid: 0, gid: 0}, file.content);
    archive.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(chunk as Buffer);
    await this.#call(`copy files into container ${id.slice(0, 12)}`, (docker) =>
      docker.getContainer(id).putArchive(Buffer.concat(chunks), {path: '/'}),
    );
  }

  async removeContainer(idOrName: string): Promise<RemoveOutcome> {
    return this.#call(`remove container ${idOrName.slice(0, 64)}`, async (docker) => {
      try {
        await docker.getContainer(idOrName).remove({force: true, v: true});
        return 'removed';
      } catch (error) {
        // Already gone, or another process is removing it right now: either way it will be gone.
        if (httpStatus(error) === 404) return 'absent';
        if (httpStatus(error) === 409 && /already in progress/i.test(dockerMessage(error))) return 'absent';
        throw error;
      }
    });
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return this.#call('list containers', async (docker) => {
      const list = await docker.listContainers({
        all: true,
        filters: {label: Object.entries(labels).map(([key, value]) => `${key}=${value}`)},
      });
      return list.map((item) => ({
        id: item.Id,
        name: (item.Names[0] ?? '').replace(/^\//, ''),
        labels: item.Labels,
        state: item.State,
        addresses: Object.fromEntries(
          Object.entries(item.NetworkSettings?.Networks ?? {}).flatMap(([network, settings]) =>
            settings.IPAddress ? [[network, settings.IPAddress]] : [],
          ),
        ),
      }));
    });
  }

  async inspectContainer(idOrName: string): Promise<ContainerState | undefined> {
    return this.#call(`inspect container ${idOrName.slice(0, 64)}`, async (docker) => {
      try {
        const info = await docker.getContainer(idOrName).inspect();
        return {
          running: info.State.Running && !info.State.Restarting,
          exitCode: info.State.ExitCode,
          status: info.State.Status,
          restartCount: info.RestartCount ?? 0,
          restarting: info.State.Restarting,
        };
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async containerEnv(idOrName: string): Promise<string[] | undefined> {
    return this.#call(`inspect container ${idOrName.slice(0, 64)}`, async (docker) => {
      try {
        return (await docker.getContainer(idOrName).inspect()).Config.Env ?? [];
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async runningPid(idOrName: string): Promise<number | undefined> {
    return this.#call(`inspect container ${idOrName.slice(0, 64)}`, async (docker) => {
      try {
        const info = await docker.getContainer(idOrName).inspect();
        return info.State.Running ? info.State.Pid : undefined;
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async exec(id: string, command: string[], stdin?: string): Promise<ExecResult> {
    return this.#call(`run ${command[0]} in container ${id.slice(0, 12)}`, async (docker) => {
      const exec = await docker.getContainer(id).exec({
        Cmd: command,
        AttachStdin: stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        User: 'root',
      });
      const stream = await exec.start({hijack: true, stdin: stdin !== undefined});
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const chunks = {out: [] as Buffer[], err: [] as Buffer[]};
      stdout.on('data', (chunk: Buffer) => chunks.out.push(chunk));
      stderr.on('data', (chunk: Buffer) => chunks.err.push(chunk));
      docker.modem.demuxStream(stream, stdout, stderr);
      if (stdin !== undefined) {
        stream.write(stdin);
        // Half-close so the command sees end of input; the socket stays open for its output.
        (stream as NodeJS.WritableStream).end();
      }
      await finished(stream as NodeJS.ReadableStream).catch(() => undefined);
      const info = await exec.inspect();
      return {
        exitCode: info.ExitCode ?? -1,
        stdout: Buffer.concat(chunks.out).toString('utf8'),
        stderr: Buffer.concat(chunks.err).toString('utf8'),
      };
    });
  }

  async logs(idOrName: string, options: {follow: boolean; tail?: number}): Promise<NodeJS.ReadableStream> {
    return this.#call(`read logs of ${idOrName.slice(0, 64)}`, (docker) =>
      readLogs(docker, docker.getContainer(idOrName), `container ${idOrName}`, options),
    );
  }

  async buildImage(options: {
    contextDir: string;
    tag: string;
    buildArgs: Record<string, string>;
    onProgress?: (line: string) => void;
  }): Promise<void> {
    const files = await readdir(options.contextDir);
    await this.#call(`build image ${options.tag}`, async (docker) => {
      const stream = await docker.buildImage(
        {context: options.contextDir, src: files},
        {t: options.tag, buildargs: options.buildArgs, rm: true, forcerm: true, pull: false},
      );
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(
          stream,
          (error: Error | null, output: Array<{error?: string; errorDetail?: {message?: string}}>) => {
            const failed = error ?? output.find((item) => item.error);
            if (!failed) return resolve();
            const message =
              failed instanceof Error ? failed.message : (failed.errorDetail?.message ?? failed.error);
            reject(new SandmanError('FAILURE', `image build failed: ${message}`));
          },
          (event: {stream?: string; status?: string}) => {
            const line = (event.stream ?? event.status ?? '').trimEnd();
            if (line) options.onProgress?.(line);
          },
        );
      });
    });
  }
}

/** The bridge's own addresses: where this host's connections to its containers come from. */
function gatewaysOf(network: {IPAM?: {Config?: Array<{Gateway?: string}>}}): string[] {
  return (network.IPAM?.Config ?? []).flatMap((entry) => (entry.Gateway ? [entry.Gateway] : []));
}
