import type {ContainerClient} from './container-client.js';
import type {ImageClient} from './image-client.js';
import type {NetworkClient} from './network-client.js';

/** The engine as a whole: whether it answers, and what it stores containers on. */
export interface Engine {
  /** Fails with exit 6 when the engine cannot be reached. */
  ping(): Promise<void>;
  /** The engine's storage driver and the filesystem under it (`docker info`): what --storage-opt size needs. */
  storage(): Promise<{driver: string; backingFilesystem: string | null}>;
}

/** Every resource of one engine: for the callers that use them all (the session workflows, doctor). */
export type EngineClient = Engine & ContainerClient & ImageClient & NetworkClient;
