/** The HTTP API's OpenAPI 3 document, served at GET /openapi.json (docs/admin/http-api.md). */
import {LOGIN_COOKIE} from './http/login-cookie.js';
import {jobPaths, jobSchema} from './openapi-jobs.js';

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
    last_active_at: {...nullable('string'), format: 'date-time'},
    stopped_at: {...nullable('string'), format: 'date-time'},
    /** docs/admin/sessions.md "The in-session command": `sandman keep`, and the actor of the last extend. */
    keep_until: {...nullable('string'), format: 'date-time'},
    last_extended_by: nullable('string'),
    apps: {
      type: 'array',
      description: 'The web apps its image offers, where the console opens them (docs/admin/apps.md)',
      items: {
        type: 'object',
        properties: {name: {type: 'string'}, title: {type: 'string'}, path: {type: 'string'}},
      },
    },
  },
};
/** A queued create (docs/admin/users-and-limits.md "Users and limits"): a session's names for its ID and user, its place in line. */
const queued = {
  type: 'object',
  properties: {
    id: {type: 'string'},
    session_id: {type: 'string'},
    user_id: {type: 'string'},
    ssh_user: {type: 'string'},
    status: {type: 'string', enum: ['queued']},
    queue_position: {type: 'integer'},
    waiting_for: {type: 'string'},
    queued_at: {type: 'string', format: 'date-time'},
    gpu_hours: {type: 'number'},
  },
};
const sessionOrQueued = {oneOf: [session, queued]};
const limit = (value: object) => ({
  type: 'object',
  properties: {value, source: {type: 'string', example: 'group students'}},
});
const user = {
  type: 'object',
  properties: {
    user: {type: 'string'},
    uid: {type: 'integer'},
    group: nullable('string'),
    added_at: {type: 'string', format: 'date-time'},
    keys: {
      type: 'array',
      items: {
        type: 'object',
        properties: {line: {type: 'string'}, fingerprint: {type: 'string'}, added_at: {type: 'string'}},
      },
    },
    defaults: {type: 'object', properties: {gpu: nullable('string'), ttl: nullable('string')}},
    limits: {
      type: 'object',
      properties: {
        max_sessions: limit({type: 'integer'}),
        allowed_profiles: limit({type: 'array', items: {type: 'string'}}),
        max_ttl_minutes: limit({type: 'number'}),
        gpu_hour_budget: limit(nullable('string')),
        idle_gpu_threshold: limit({type: 'number'}),
        idle_gpu_window_minutes: limit({type: 'number'}),
        max_keep_minutes: limit({type: 'number'}),
        idle_warn_before_minutes: limit({type: 'number'}),
        max_jobs: limit({type: 'integer'}),
      },
    },
    sessions: {type: 'integer'},
    workspace: {type: 'string'},
    gpu_hours: {
      type: 'object',
      properties: {
        used: {type: 'number'},
        budget: {type: 'number'},
        left: {type: 'number'},
        window: {type: 'string'},
      },
    },
    warnings: {type: 'array', items: {type: 'string'}},
    notify: {type: 'object', properties: {email: nullable('string'), webhook: nullable('string')}},
  },
};
/** What POST /users and PATCH /users/{name} take; null takes a user's own limit away. */
const userInput = {
  type: 'object',
  properties: {
    name: {type: 'string'},
    ssh_keys: {type: 'array', items: {type: 'string'}},
    group: nullable('string'),
    defaults: {
      type: 'object',
      properties: {
        mig_profile: {type: 'string'},
        gpu: {type: 'string', enum: ['any', 'none']},
        ttl: {type: 'string'},
      },
    },
    limits: {
      type: 'object',
      properties: {
        max_sessions: nullable('integer'),
        allowed_profiles: {type: 'array', items: {type: 'string'}, nullable: true},
        max_ttl: nullable('string'),
        gpu_hour_budget: nullable('string'),
        /** `sandman keep` inside a session (docs/admin/sessions.md "The in-session command"), e.g. 8h; 0: not allowed. */
        max_keep: nullable('string'),
        idle_warn_before: nullable('string'),
      },
    },
    email: nullable('string'),
    webhook: nullable('string'),
  },
};
const nameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  schema: {type: 'string'},
  description: 'login name',
};
const errors = {
  '400': error,
  '401': error,
  '403': error,
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

/** GET /me for a user login (docs/admin/console-and-sign-in.md "User logins"): who she is, her limits, budget, sessions and queued requests. */
const me = {
  type: 'object',
  properties: {
    kind: {type: 'string', enum: ['user', 'admin', 'terminal']},
    user: {type: 'string'},
    group: nullable('string'),
    defaults: {
      type: 'object',
      properties: {gpu: nullable('string'), ttl: nullable('string'), queue: {type: 'boolean'}},
    },
    limits: {
      type: 'object',
      properties: {
        max_sessions: {type: 'integer'},
        allowed_profiles: {type: 'array', items: {type: 'string'}},
        max_ttl_minutes: {type: 'integer'},
        gpu_hour_budget: nullable('string'),
        quota: nullable('integer'),
      },
    },
    gpu_hours: {
      type: 'object',
      nullable: true,
      properties: {
        used: {type: 'number'},
        budget: {type: 'number'},
        left: {type: 'number'},
        window: {type: 'string'},
      },
    },
    disk: {type: 'object', nullable: true},
    sessions: {type: 'array', items: session},
    queued: {type: 'array', items: queued},
    jobs: {type: 'array', items: jobSchema, description: 'her batch jobs (as GET /jobs?all=true)'},
  },
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
      cookie: {
        type: 'apiKey',
        in: 'cookie',
        name: LOGIN_COOKIE,
        description:
          'A browser login (POST /login, or a one-time link GET /t/{secret}); changes only from the console or apiAllowedOrigins. A user login reaches her own sessions only (403 otherwise)',
      },
    },
  },
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness; answers without credentials and says nothing secret',
        security: [],
        responses: {
          '200': json(
            {type: 'object', properties: {status: {type: 'string'}, service: {type: 'string'}}},
            'OK',
          ),
        },
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
                  // Nothing free: 202 and a place in line instead of 503.
                  queue: {type: 'boolean'},
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
          '202': json(queued, 'Queued ("queue": true and nothing free): it starts by itself'),
          ...errors,
        },
      },
      get: {
        summary: 'List sessions, then queued creates',
        responses: {'200': json({type: 'array', items: sessionOrQueued}, 'Sessions'), ...errors},
      },
      delete: {
        summary: 'Remove every session',
        responses: {'200': json({type: 'object'}, 'Removed'), ...errors},
      },
    },
    '/sessions/{id}': {
      parameters: [idParameter],
      get: {
        summary: 'One session, or a queued create (by its ID or user)',
        responses: {'200': json(sessionOrQueued, 'The session or queued create'), ...errors},
      },
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
    '/sessions/{id}/keep': {
      parameters: [idParameter],
      post: {
        summary:
          "No idle stop for this many minutes (sandman keep; at most the user's userMaxKeep, else 403 POLICY); the expiry still applies",
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['minutes'],
                properties: {minutes: {type: 'integer', minimum: 1}},
              },
            },
          },
        },
        responses: {'200': json(session, 'The session, with keep_until'), ...errors},
      },
    },
    '/sessions/{id}/stop': {
      parameters: [idParameter],
      post: {
        summary:
          'Stop a session: the GPU is freed, the container and its files kept (200 also when already stopped)',
        responses: {'200': json(session, 'The session, stopped'), ...errors},
      },
    },
    '/sessions/{id}/start': {
      parameters: [idParameter],
      post: {
        summary:
          'Start a stopped session on its own GPU device when free, else another of its kind (503: none free)',
        responses: {'200': json(session, 'The session, running'), ...errors},
      },
    },
    '/sessions/{id}/terminal-link': {
      parameters: [idParameter],
      post: {
        summary:
          'A one-time link to a browser terminal in this session (docs/admin/console-and-sign-in.md "In the browser"): works once, until ttl_minutes (terminalLinkTtl) or the session\'s end',
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {type: 'object', properties: {ttl_minutes: {type: 'integer', minimum: 1}}},
            },
          },
        },
        responses: {
          '201': json(
            {
              type: 'object',
              properties: {
                session_id: {type: 'string'},
                url: {type: 'string'},
                expires_at: {type: 'string', format: 'date-time'},
              },
            },
            'The link',
          ),
          ...errors,
        },
      },
    },
    '/sessions/{id}/apps': {
      parameters: [idParameter],
      get: {
        summary:
          "The web apps the session's image offers (image build --app) and their URLs, proxied at /s/{id}/apps/{name}/ for the session's user and the admin (docs/admin/apps.md)",
        responses: {
          '200': json(
            {
              type: 'object',
              properties: {
                session_id: {type: 'string'},
                status: {type: 'string'},
                apps: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {name: {type: 'string'}, title: {type: 'string'}, url: {type: 'string'}},
                  },
                },
              },
            },
            'Its apps',
          ),
          ...errors,
        },
      },
    },
    '/sessions/{id}/terminal': {
      parameters: [idParameter],
      get: {
        summary:
          'WebSocket (Upgrade): a shell in the session. Binary frames carry its output; send {"type":"input","data":…} and {"type":"resize","cols":…,"rows":…}',
        parameters: [
          {name: 'cols', in: 'query', schema: {type: 'integer'}},
          {name: 'rows', in: 'query', schema: {type: 'integer'}},
        ],
        responses: {'101': {description: 'Switching to the WebSocket protocol'}, ...errors},
      },
    },
    '/usage': {
      get: {
        summary: 'Session-hours and GPU-hours from the audit log (as sandman usage)',
        parameters: [
          {name: 'since', in: 'query', schema: {type: 'string', example: '7d'}},
          {name: 'until', in: 'query', schema: {type: 'string'}},
          {name: 'by', in: 'query', schema: {type: 'string', enum: ['user', 'profile', 'gpu', 'day']}},
        ],
        responses: {'200': json({type: 'object'}, 'The report'), ...errors},
      },
    },
    '/login': {
      post: {
        summary:
          'Browser login with the API token (JSON {"token": …} or a form field): sets the HttpOnly login cookie',
        security: [],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {type: 'object', required: ['token'], properties: {token: {type: 'string'}}},
            },
            'application/x-www-form-urlencoded': {
              schema: {type: 'object', required: ['token'], properties: {token: {type: 'string'}}},
            },
          },
        },
        responses: {
          '200': json({type: 'object'}, 'Logged in'),
          '303': {description: 'A form: back to the console'},
          ...errors,
        },
      },
    },
    '/logout': {
      post: {
        summary: 'End the browser login',
        security: [],
        responses: {'200': json({type: 'object'}, 'Logged out')},
      },
    },
    '/oidc/login': {
      get: {
        summary:
          'Site sign-in (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"): to the OpenID provider (oidcIssuer) with PKCE, state and nonce; 404 page without oidcIssuer',
        security: [],
        responses: {
          '303': {
            description: "To the provider's authorization endpoint (sets a short-lived sign-in cookie)",
          },
          '404': {description: 'No site sign-in on this host (an HTML page)'},
          '502': {description: 'The provider did not answer (an HTML page)'},
        },
      },
    },
    '/oidc/callback': {
      get: {
        summary:
          "The provider's answer (the redirect URI {apiPublicUrl}/oidc/callback): a login cookie for that registered user (or the admin, oidcAdminGroup), or a page saying why not",
        security: [],
        parameters: [
          {name: 'code', in: 'query', schema: {type: 'string'}},
          {name: 'state', in: 'query', schema: {type: 'string'}},
          {name: 'error', in: 'query', schema: {type: 'string'}},
        ],
        responses: {
          '303': {description: 'Signed in: to the console'},
          '403': {
            description:
              "Refused, no login (an HTML page): state or nonce not this browser's, a used or expired code, an unknown user without oidcAutoRegister, a provider error",
          },
          '502': {description: 'The provider did not answer (an HTML page)'},
        },
      },
    },
    '/me': {
      get: {
        summary:
          'A user login (docs/admin/console-and-sign-in.md "User logins"): who she is, her limits, GPU-hours used and left, her sessions and queued requests; the admin gets {"kind": "admin"}',
        responses: {'200': json(me, 'The caller'), ...errors},
      },
    },
    '/t/{secret}': {
      parameters: [{name: 'secret', in: 'path', required: true, schema: {type: 'string'}}],
      get: {
        summary:
          'Open a one-time link (session terminal, user login-link): sets the login cookie and redirects to the terminal or, for a user login, to the console; 403 when used, expired or unknown',
        security: [],
        responses: {
          '303': {description: 'Logged in: to the terminal or the console'},
          '403': {description: 'The link was used already, expired or is not valid (an HTML page)'},
        },
      },
    },
    '/whoami': {
      get: {
        summary:
          'What this login may do: {"kind": "admin"}, {"kind": "terminal", "session": …} or {"kind": "user", "user": …}; a site sign-in adds "via": "oidc" (and the admin\'s "user")',
        responses: {'200': json({type: 'object'}, 'The grant'), ...errors},
      },
    },
    '/users': {
      get: {
        summary: 'Registered users',
        responses: {'200': json({type: 'array', items: user}, 'Users'), ...errors},
      },
      post: {
        summary: 'Register a user',
        requestBody: {
          required: true,
          content: {'application/json': {schema: {...userInput, required: ['name']}}},
        },
        responses: {'201': json(user, 'The user'), ...errors},
      },
    },
    '/users/{name}': {
      parameters: [nameParameter],
      get: {summary: 'One user, with GPU-hours used', responses: {'200': json(user, 'The user'), ...errors}},
      patch: {
        summary: "Change a user's keys (adds), group, defaults or limits",
        requestBody: {required: true, content: {'application/json': {schema: userInput}}},
        responses: {'200': json(user, 'The user'), ...errors},
      },
      delete: {
        summary: "Forget a user's registration (never the home); 409 while they have sessions",
        responses: {'200': json({type: 'object'}, 'Removed'), ...errors},
      },
    },
    '/gpus': {
      get: {
        summary:
          'GPUs and MIG instances; none (count 0) on a host without nvidia-smi, 503 when its driver fails',
        responses: {'200': json({type: 'object'}, 'GPUs'), ...errors},
      },
    },
    '/gpus/profiles': {
      get: {summary: 'MIG profiles', responses: {'200': json({type: 'object'}, 'Profiles'), ...errors}},
    },
    '/gpus/available': {
      get: {
        summary:
          'Free MIG devices and GPUs; none (count 0) on a host without nvidia-smi, 503 when its driver fails',
        responses: {'200': json({type: 'object'}, 'Free devices'), ...errors},
      },
    },
    '/openapi.json': {
      get: {summary: 'This document', responses: {'200': json({type: 'object'}, 'OpenAPI 3')}},
    },
    ...jobPaths(json, errors),
  },
  security: [{bearer: []}, {cookie: []}, {}],
};
