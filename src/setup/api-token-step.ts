import {newApiToken, TOKEN_FILE_MODE, tokenFileProblem} from '../web/api-token.js';
import type {Config} from '../config/config.js';
import type {StateDir} from '../state/state-dir.js';
import type {SetupRecord} from './setup-record.js';
import type {Change, SetupHost, SetupStep} from './setup-host.js';

/**
 * 2b. The API's bearer token when apiListen puts the API on TCP (docs/admin/http-api.md): made once,
 * random and 0600 at apiTokenFile (else in the state directory); one others can read is made
 * 0600; an admin's token is never replaced.
 */
export async function apiTokenStep(
  {config, stateDir, host}: {config: Config; stateDir: StateDir; host: SetupHost},
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  if (!config.apiListen) return;
  const file = config.apiTokenFile ?? stateDir.apiToken;
  const mode = await host.fileMode(file);
  const text = await host.read(file);
  if (mode === undefined || text === undefined)
    await change('api token', `${file} (600, random)`, async () => {
      await host.write(file, `${newApiToken()}\n`, TOKEN_FILE_MODE);
      record.made.apiTokenFile = file;
    });
  else if ((mode & 0o077) !== 0)
    await change('api token', `${file} (600, was ${mode.toString(8)})`, () =>
      host.write(file, text, TOKEN_FILE_MODE),
    );
  else {
    const problem = tokenFileProblem(file, mode, text);
    steps.push(
      problem
        ? {step: 'api token', status: 'kept', detail: problem}
        : {step: 'api token', status: 'ok', detail: `${file} (600)`},
    );
  }
}
