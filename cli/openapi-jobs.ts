/** The batch jobs' part of the OpenAPI document (docs/admin/jobs.md); openapi.ts puts it in. */
type Json = (schema: object, description: string) => object;

const nullable = (type: string) => ({type, nullable: true});
export const jobSchema = {
  type: 'object',
  properties: {
    job_id: {type: 'string'},
    user: {type: 'string'},
    name: nullable('string'),
    state: {type: 'string', enum: ['queued', 'running', 'exited', 'timeout', 'cancelled', 'failed']},
    command: {type: 'array', items: {type: 'string'}},
    image: {type: 'string'},
    gpu_uuid: nullable('string'),
    mig_profile: nullable('string'),
    submitted_at: {type: 'string', format: 'date-time'},
    started_at: {type: 'string', format: 'date-time', nullable: true},
    ended_at: {type: 'string', format: 'date-time', nullable: true},
    expires_at: {type: 'string', format: 'date-time', nullable: true},
    exit_code: nullable('integer'),
    reason: nullable('string'),
    log: {type: 'string'},
    queue_position: {type: 'integer'},
    waiting_for: {type: 'string'},
  },
};
const job = jobSchema;
const jobId = {
  name: 'id',
  in: 'path',
  required: true,
  schema: {type: 'string'},
  description: 'job ID, unique prefix or name',
};

export function jobPaths(json: Json, errors: object) {
  return {
    '/jobs': {
      post: {
        summary: 'Submit a batch job: its command runs as the user when its turn in the sessions’ line comes',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['user_id', 'command'],
                properties: {
                  user_id: {type: 'string'},
                  command: {type: 'array', items: {type: 'string'}, minItems: 1},
                  mig_profile: {type: 'string'},
                  mig_instance_uuid: {type: 'string'},
                  gpu: {type: 'string'},
                  image: {type: 'string'},
                  // Longest run time: 90m, 6h, 1d (default jobMaxTtl).
                  ttl: {type: 'string'},
                  env: {type: 'array', items: {type: 'string'}},
                  name: {type: 'string'},
                  workdir: {type: 'string'},
                },
              },
            },
          },
        },
        responses: {
          '201': json(job, 'Started'),
          '202': json(job, 'Queued: it starts by itself'),
          ...errors,
        },
      },
      get: {
        summary: 'Queued and running jobs (all=true: also those ended within jobRetention)',
        parameters: [
          {name: 'user', in: 'query', schema: {type: 'string'}},
          {name: 'all', in: 'query', schema: {type: 'boolean'}},
        ],
        responses: {'200': json({type: 'array', items: job}, 'Jobs'), ...errors},
      },
    },
    '/jobs/{id}': {
      parameters: [jobId],
      get: {
        summary: 'One job (its end collected when it ended)',
        responses: {'200': json(job, 'The job'), ...errors},
      },
      delete: {
        summary: 'Cancel: a queued job leaves the line, a running one gets SIGTERM, then SIGKILL after 30 s',
        responses: {'200': json(job, 'The job, ended'), ...errors},
      },
    },
    '/jobs/{id}/logs': {
      parameters: [jobId],
      get: {
        summary: 'Its output (stdout and stderr), kept in the user’s home once it ended',
        responses: {
          '200': json(
            {type: 'object', properties: {job_id: {type: 'string'}, logs: {type: 'string'}}},
            'Output',
          ),
          ...errors,
        },
      },
    },
  };
}
