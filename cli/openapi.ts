/** The HTTP API's OpenAPI 3 document, served at GET /openapi.json (README "HTTP API"). */
const error = {
  description: 'An error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error', 'code'],
        properties: {error: {type: 'string'}, code: {type: 'string', example: 'CONFLICT'}},
      },
    },
  },
};
const json = (schema: object, description: string) => ({
  description,
  content: {'application/json': {schema}},
});
const nullable = (type: string) => ({type, nullable: true});
const session = {
  type: 'object',
  properties: {
    id: {type: 'string'},
    session_id: {type: 'string'},
    user_id: {type: 'string'},
    container_id: nullable('string'),
    container_ip: nullable('string'),
    status: {type: 'string'},
    ssh_user: {type: 'string'},
    ssh_host: {type: 'string'},
    ssh_port: {type: 'integer'},
    gpu_uuid: nullable('string'),
    mig_profile: nullable('string'),
    ttl_minutes: {type: 'integer'},
    created_at: {type: 'string', format: 'date-time'},
    expires_at: {type: 'string', format: 'date-time'},
    metadata: {
      type: 'object',
      properties: {image: {type: 'string'}, workspace: {type: 'string'}, ssh_port: {type: 'integer'}},
    },
  },
};
const errors = {
  '400': error,
  '401': error,
  '404': error,
  '409': error,
  '413': error,
  '500': error,
  '503': error,
};
const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: {type: 'string'},
  description: 'session ID, unique prefix or user',
};

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'sandman',
    version: '0.1.0',
    description: 'GPU workspaces over SSH: the original HTTP API, socket-activated.',
  },
  components: {
    securitySchemes: {
      bearer: {type: 'http', scheme: 'bearer', description: 'TCP only; the unix socket needs none'},
    },
  },
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness',
        responses: {'200': json({type: 'object', properties: {status: {type: 'string'}}}, 'OK')},
      },
    },
    '/sessions': {
      post: {
        summary: 'Create a session',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['user_id'],
                properties: {
                  user_id: {type: 'string'},
                  ttl_minutes: {type: 'integer', minimum: 1},
                  mig_profile: {type: 'string'},
                  mig_instance_uuid: {type: 'string'},
                  // A whole GPU ("any", a UUID or an index), or "none" for no GPU at all.
                  gpu: {type: 'string'},
                  image: {type: 'string'},
                  // Swarm mode: the node for the user's first session.
                  node: {type: 'string'},
                },
              },
            },
          },
        },
        responses: {
          '201': json(
            {
              type: 'object',
              properties: {
                session_id: {type: 'string'},
                container_id: {type: 'string'},
                ssh_user: {type: 'string'},
                ssh_host: {type: 'string'},
                ssh_port: {type: 'integer'},
                ssh_private_key: nullable('string'),
                gpu_uuid: nullable('string'),
                created_at: {type: 'string', format: 'date-time'},
                expires_at: {type: 'string', format: 'date-time'},
              },
            },
            'Created; the private key appears here only',
          ),
          ...errors,
        },
      },
      get: {
        summary: 'List sessions',
        responses: {'200': json({type: 'array', items: session}, 'Sessions'), ...errors},
      },
      delete: {
        summary: 'Remove every session',
        responses: {'200': json({type: 'object'}, 'Removed'), ...errors},
      },
    },
    '/sessions/{id}': {
      parameters: [idParameter],
      get: {summary: 'One session', responses: {'200': json(session, 'The session'), ...errors}},
      delete: {
        summary: 'Remove a session (its workspace is kept)',
        responses: {'200': json({type: 'object'}, 'Removed'), ...errors},
      },
    },
    '/sessions/{id}/extend': {
      parameters: [idParameter],
      post: {
        summary: 'Push the expiry out',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['ttl_minutes'],
                properties: {ttl_minutes: {type: 'integer', minimum: 1}},
              },
            },
          },
        },
        responses: {'200': json(session, 'The session'), ...errors},
      },
    },
    '/gpus': {
      get: {summary: 'GPUs and MIG instances', responses: {'200': json({type: 'object'}, 'GPUs'), ...errors}},
    },
    '/gpus/profiles': {
      get: {summary: 'MIG profiles', responses: {'200': json({type: 'object'}, 'Profiles'), ...errors}},
    },
    '/gpus/available': {
      get: {
        summary: 'Free MIG devices and GPUs',
        responses: {'200': json({type: 'object'}, 'Free devices'), ...errors},
      },
    },
    '/openapi.json': {
      get: {summary: 'This document', responses: {'200': json({type: 'object'}, 'OpenAPI 3')}},
    },
  },
  security: [{bearer: []}, {}],
};
