import type {RemoveOutcome} from './container-client.js';

/** The engine's images (implemented beside the ContainerClient, adapters/dockerode-container-client.ts). */
export interface ImageClient {
  imageExists(reference: string): Promise<boolean>;
  /** The image's labels; undefined when the engine has no such image. */
  imageLabels(reference: string): Promise<Record<string, string> | undefined>;
  /** Removes an image by reference; one already gone counts as success. */
  removeImage(reference: string): Promise<RemoveOutcome>;
  /** Builds every file of `contextDir` into `tag`. */
  buildImage(options: {
    contextDir: string;
    tag: string;
    buildArgs: Record<string, string>;
    onProgress?: (line: string) => void;
  }): Promise<void>;
}
