/** The batch jobs' endpoints (docs/admin/jobs.md, "HTTP API"): submit, list, show, logs, cancel. */
import {isImageReference} from '../../src/config/config.js';
import {invalidInput} from '../../src/core/errors.js';
import {validateUserName} from '../../src/users/user-name.js';
import type {Grant} from '../../src/web/web-access.js';
import type {Services} from '../services.js';
import {gpuChoice, objectBody} from './request-fields.js';

/** What a job route reads of a request (api-routes.ts's Route, which passes more). */
type JobRoute = (request: {
  body: unknown;
  params: Record<string, string | undefined>;
  query: URLSearchParams;
  services: Services;
  grant: Grant;
}) => Promise<[number, unknown]>;

export function jobRoutes(): Array<[method: 'GET' | 'POST' | 'DELETE', path: string, route: JobRoute]> {
  return [
    [
      'POST',
      '/jobs',
      async ({body, services}) => {
        const input = objectBody(body);
        if (typeof input.user_id !== 'string') throw invalidInput('missing user_id');
        const command = input.command;
        if (
          !Array.isArray(command) ||
          command.length === 0 ||
          !command.every((part) => typeof part === 'string')
        )
          throw invalidInput('command must be a non-empty array of strings, e.g. ["python", "train.py"]');
        if (input.image !== undefined && (typeof input.image !== 'string' || !isImageReference(input.image)))
          throw invalidInput(`invalid image ${JSON.stringify(input.image)}: not an image reference`);
        const env = input.env ?? [];
        if (!Array.isArray(env) || !env.every((entry) => typeof entry === 'string'))
          throw invalidInput('env must be an array of "KEY=VALUE" strings');
        for (const field of ['name', 'workdir', 'ttl'] as const)
          if (input[field] !== undefined && typeof input[field] !== 'string')
            throw invalidInput(`${field} must be a string`);
        const job = await (
          await services.sessionService()
        ).jobs.submit({
          user: validateUserName(input.user_id),
          gpu: gpuChoice(input),
          command: command as string[],
          image: input.image as string | undefined,
          ttl: input.ttl as string | undefined,
          env: env as string[],
          name: input.name as string | undefined,
          workdir: input.workdir as string | undefined,
        });
        // Queued: 202 with its place in line; it starts by itself.
        return [job.state === 'queued' ? 202 : 201, job];
      },
    ],
    [
      'GET',
      '/jobs',
      async ({query, services, grant}) => [
        200,
        await (
          await services.sessionService()
        ).jobs.list({
          // A user login lists her own only (docs/admin/console-and-sign-in.md "User logins").
          user: grant.kind === 'user' ? grant.user : (query.get('user') ?? undefined),
          all: query.get('all') === 'true',
        }),
      ],
    ],
    [
      'GET',
      '/jobs/:id',
      async ({params, services}) => [200, await (await services.sessionService()).jobs.refresh(params.id!)],
    ],
    [
      'GET',
      '/jobs/:id/logs',
      async ({params, services}) => {
        const jobs = (await services.sessionService()).jobs;
        const job = await jobs.show(params.id!);
        const chunks: Buffer[] = [];
        for await (const chunk of await jobs.logs(job.job_id, false))
          chunks.push(Buffer.from(chunk as Buffer));
        return [200, {job_id: job.job_id, logs: Buffer.concat(chunks).toString('utf8')}];
      },
    ],
    [
      'DELETE',
      '/jobs/:id',
      async ({params, services}) => [200, await (await services.sessionService()).jobs.cancel(params.id!)],
    ],
  ];
}
