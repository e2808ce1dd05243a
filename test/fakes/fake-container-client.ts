import type {
  ContainerFile,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  ExecResult,
  InContainerClient,
  RemoveOutcome,
} from '../../src/runtime/docker/container-client.js';
import type {EngineClient} from '../../src/runtime/docker/engine-client.js';
import {dependencyUnavailable, SandmanError} from '../../src/core/errors.js';
import {IMAGE_LABELS} from '../../src/core/labels.js';

type Step =
  | 'ping'
  | 'ensureNetwork'
  | 'createContainer'
  | 'putFiles'
  | 'startContainer'
  | 'stopContainer'
  | 'commitContainer'
  | 'removeContainer'
  | 'exec';

export interface FakeContainer {
  id: string;
  spec: ContainerSpec;
  running: boolean;
  files: Map<string, ContainerFile>;
  /** Its exit code once it has exited. */
  exitCode?: number;
}

/** A container engine in memory. `failing` makes a step throw, as a real engine can. */
export class FakeContainerClient implements EngineClient, InContainerClient {
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Set<string>();
  readonly images = new Set<string>(['sandman/workspace:latest']);
  /** Labels per image; an image without an entry has those of today's `sandman image build`. */
  readonly labels = new Map<string, Record<string, string>>();
  readonly failing = new Set<Step>();
  /** Image references made by commitContainer, in order. */
  readonly commits: string[] = [];
  readonly calls: string[] = [];
  /** Runs when createContainer is called (e.g. to send a signal in the middle of a create). */
  onCreate?: () => Promise<void>;
  /** Runs when a container starts (a fake cluster places the session's task). */
  onStart?: (container: FakeContainer) => void;
  /** Runs when a container stops or goes. */
  onStop?: (container: FakeContainer) => void;
  /** Containers started from now on exit at once with code 1, having printed these lines. */
  exitsAtStart?: string[];
  /** What each container printed (default: one fake line). */
  readonly output = new Map<string, string[]>();
  #next = 1;

  #step(step: Step, detail = ''): void {
    this.calls.push(detail ? `${step} ${detail}` : step);
    if (!this.failing.has(step)) return;
    if (step === 'ping') throw dependencyUnavailable('Docker engine unreachable (fake)');
    throw new SandmanError('FAILURE', `${step} failed (fake engine)`);
  }

  async ping(): Promise<void> {
    this.#step('ping');
  }
  async imageExists(reference: string): Promise<boolean> {
    return this.images.has(reference);
  }
  async imageLabels(reference: string): Promise<Record<string, string> | undefined> {
    if (!this.images.has(reference)) return undefined;
    return (
      this.labels.get(reference) ?? {[IMAGE_LABELS.image]: 'workspace', [IMAGE_LABELS.sessionFiles]: '1'}
    );
  }
  async storage(): Promise<{driver: string; backingFilesystem: string | null}> {
    return {driver: 'overlay2', backingFilesystem: 'extfs'};
  }
  async networkIcc(name: string): Promise<boolean | undefined> {
    return this.networks.has(name) ? false : undefined;
  }
  async networkBridge(name: string): Promise<string | undefined> {
    return this.networks.has(name) ? 'br-fake0000001' : undefined;
  }
  async ensureNetwork(name: string): Promise<string[]> {
    this.#step('ensureNetwork', name);
    this.networks.add(name);
    return ['172.30.0.1'];
  }
  async stopContainer(id: string): Promise<void> {
    this.#step('stopContainer', id);
    const container = this.#find(id);
    if (!container) throw new SandmanError('FAILURE', `no container ${id}`);
    // As `docker stop`: a process that ends on SIGTERM exits 143.
    if (container.running) container.exitCode ??= 143;
    container.running = false;
    this.onStop?.(container);
  }
  async commitContainer(id: string, reference: string): Promise<string> {
    this.#step('commitContainer', id);
    if (!this.#find(id)) throw new SandmanError('FAILURE', `no container ${id}`);
    this.images.add(reference);
    this.commits.push(reference);
    return `sha256:${reference}`;
  }
  async removeNetwork(name: string): Promise<RemoveOutcome | 'foreign'> {
    return this.networks.delete(name) ? 'removed' : 'absent';
  }
  async removeImage(reference: string): Promise<RemoveOutcome> {
    return this.images.delete(reference) ? 'removed' : 'absent';
  }
  async createContainer(spec: ContainerSpec): Promise<string> {
    this.#step('createContainer', spec.name);
    await this.onCreate?.();
    const id = `c${String(this.#next++).padStart(63, '0')}`;
    // The spec's files are in place before the first start, as the real clients put them.
    this.containers.set(id, {
      id,
      spec,
      running: false,
      files: new Map(spec.files.map((file) => [file.path, file])),
    });
    return id;
  }
  async putFiles(id: string, files: ContainerFile[]): Promise<void> {
    // As the engine's adapter: nothing to put, no call.
    if (files.length === 0) return;
    this.#step('putFiles', id);
    const container = this.#find(id);
    if (!container) throw new SandmanError('NOT_FOUND', `no container ${id} (fake)`);
    for (const file of files) container.files.set(file.path, file);
  }
  async startContainer(id: string): Promise<void> {
    this.#step('startContainer', id);
    const container = this.#find(id)!;
    this.onStart?.(container);
    if (this.exitsAtStart) {
      Object.assign(container, {running: false, exitCode: 1});
      this.output.set(container.id, this.exitsAtStart);
      return;
    }
    container.running = true;
  }
  async removeContainer(idOrName: string): Promise<'removed' | 'absent'> {
    this.#step('removeContainer', idOrName);
    const found = this.#find(idOrName);
    if (!found) return 'absent';
    this.onStop?.(found);
    this.containers.delete(found.id);
    return 'removed';
  }
  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return [...this.containers.values()]
      .filter((container) =>
        Object.entries(labels).every(([key, value]) => container.spec.labels[key] === value),
      )
      .map((container) => ({
        id: container.id,
        name: container.spec.name,
        labels: container.spec.labels,
        state: container.running ? 'running' : container.exitCode !== undefined ? 'exited' : 'created',
      }));
  }
  async inspectContainer(idOrName: string): Promise<ContainerState | undefined> {
    const found = this.#find(idOrName);
    if (!found) return undefined;
    return {
      running: found.running,
      exitCode: found.exitCode ?? 0,
      status: found.running ? 'running' : found.exitCode !== undefined ? 'exited' : 'created',
      restartCount: 0,
      restarting: false,
    };
  }
  async exec(id: string, command: string[]): Promise<ExecResult> {
    this.#step('exec', `${id} ${command.join(' ')}`);
    return {exitCode: 0, stdout: '', stderr: ''};
  }
  async containerEnv(idOrName: string): Promise<string[] | undefined> {
    return this.#find(idOrName)?.spec.env;
  }
  async runningPid(idOrName: string): Promise<number | undefined> {
    const found = this.#find(idOrName);
    // A distinct host PID per container, derived from its ID.
    return found?.running ? 4000 + Number.parseInt(found.id.slice(-6), 10) : undefined;
  }
  async logs(idOrName: string): Promise<NodeJS.ReadableStream> {
    const {Readable} = await import('node:stream');
    const lines = this.output.get(this.#find(idOrName)?.id ?? '') ?? ['fake log line'];
    return Readable.from([Buffer.from(lines.map((line) => `${line}\n`).join(''))]);
  }
  async buildImage(options: {tag: string}): Promise<void> {
    this.images.add(options.tag);
  }

  #find(idOrName: string): FakeContainer | undefined {
    return (
      this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.spec.name === idOrName)
    );
  }
}
