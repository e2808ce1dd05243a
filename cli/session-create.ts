import {readFile} from 'node:fs/promises';

import type {Config} from '../src/config.js';
import {invalidInput} from '../src/errors.js';
import type {GpuChoice} from '../src/gpu/gpu-allocator.js';
import {gpuDescription} from '../src/session/banner.js';
import type {CreatedSession} from '../src/session/session-service.js';
import {formatTime, loadChalk, relativeTime, type CommandOutput} from './output.js';
import {sessionService} from './services.js';
import {startSpinner} from './spinner.js';

export interface SessionCreateFlags {
  ttl?: string;
  profile?: string;
  'mig-instance'?: string;
  gpu?: string;
  'no-gpu'?: boolean;
  'ssh-key'?: string;
  password?: boolean;
  env?: string[];
  'no-wait'?: boolean;
}

/** The GPU the flags ask for (they are mutually exclusive; the parser enforces that). */
export function gpuChoiceOf(flags: SessionCreateFlags): GpuChoice {
  if (flags['no-gpu']) return {kind: 'none'};
  if (flags.profile !== undefined) return {kind: 'profile', profile: flags.profile};
  if (flags['mig-instance'] !== undefined) return {kind: 'mig-instance', uuid: flags['mig-instance']};
  if (flags.gpu !== undefined) return {kind: 'gpu', ref: flags.gpu};
  return {kind: 'default'};
}

/**
 * `session create` once the user, GPU and TTL are known (given, or asked for on a terminal):
 * shared by the oclif command and the fast path (cli/fast-path.ts).
 */
export async function createSession(
  config: Config,
  request: {user: string; gpu: GpuChoice; ttl?: string; flags: SessionCreateFlags},
  out: CommandOutput,
): Promise<CreatedSession> {
  const {flags} = request;
  const authorizedKeys = flags['ssh-key'] === undefined ? undefined : await readKeyFile(flags['ssh-key']);
  const spinner = await startSpinner(out.json, `Creating a session for ${request.user}`);
  try {
    const session = await (
      await sessionService(config, spinner.text)
    ).create({
      user: request.user,
      ttl: request.ttl,
      gpu: request.gpu,
      authorizedKeys,
      password: flags.password ?? false,
      env: flags.env ?? [],
      wait: !flags['no-wait'],
    });
    spinner.stop();
    await printCreated(session, !flags['no-wait'], out);
    return session;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

async function printCreated(session: CreatedSession, waited: boolean, out: CommandOutput): Promise<void> {
  if (out.json) return;
  const chalk = await loadChalk(out.colour);
  const tick = chalk ? chalk.green('✔') : '✔';
  out.log(
    `${tick} Session ${session.session_id} for ${session.ssh_user} is ${waited ? 'ready' : 'starting'}`,
  );
  out.log(`  ${session.ssh_command}`);
  const gpu = gpuDescription(session) + (session.gpu_note ? ` (${session.gpu_note})` : '');
  out.log(`  GPU  ${gpu}   expires ${formatTime(session.expires_at)} (${relativeTime(session.expires_at)})`);
  if (session.ssh_password) out.log(`  password  ${session.ssh_password}   (shown once, not stored)`);
}

async function readKeyFile(source: string): Promise<{text: string; source: string}> {
  try {
    if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return {text: Buffer.concat(chunks).toString('utf8'), source: 'stdin'};
    }
    return {text: await readFile(source, 'utf8'), source};
  } catch (error) {
    throw invalidInput(`cannot read --ssh-key ${source}: ${(error as Error).message}`);
  }
}
