import {execFile} from 'node:child_process';

export interface ProgramResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to the end and collects its output, on node:child_process. The programs every
 * create and reap runs (iptables, ip6tables, nvidia-smi) go through this rather than execa:
 * loading execa cost a create about 80 ms of CPU here, more than the programs themselves
 * (docs/development/BENCHMARKS.md, "Fourth round"), and 20 creates at once are CPU-bound on two cores.
 *
 * A non-zero exit resolves with its code; a program that cannot be started (ENOENT, EACCES)
 * rejects with Node's error, its `code` intact; one stopped by a signal or the timeout rejects.
 */
export function runProgram(
  file: string,
  args: string[],
  options: {timeoutMs?: number} = {},
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      // Output is read whole, as execa did: a large firewall must not hit execFile's 1 MiB default.
      {encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 0},
      (error, stdout, stderr) => {
        if (!error) return resolve({exitCode: 0, stdout, stderr});
        if (typeof error.code === 'number') return resolve({exitCode: error.code, stdout, stderr});
        if (error.killed || error.signal) {
          const why =
            error.killed && options.timeoutMs
              ? `timed out after ${options.timeoutMs / 1000}s`
              : `was stopped by ${error.signal}`;
          return reject(new Error(`${file} ${args.join(' ')} ${why}`));
        }
        reject(error);
      },
    );
  });
}
