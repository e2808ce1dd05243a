// The console's batch jobs (docs/admin/jobs.md): every job the login may see (a user login: hers,
// docs/admin/console-and-sign-in.md "User logins"), queued, running and recently ended, each with a view of its output.
// A plain script beside console.js, whose helpers it uses.
/* global api, element, utc */
/* exported refreshJobs */
'use strict';

/** Fills the jobs table from GET /jobs?all=true. */
async function refreshJobs() {
  const jobs = await api('GET', '/jobs?all=true').catch(() => []);
  const body = document.querySelector('#jobs tbody');
  body.replaceChildren(...jobs.map(jobRow));
  if (jobs.length === 0) body.append(element('tr', {}, element('td', {colspan: '8', text: 'No jobs.'})));
}

function jobRow(job) {
  const gpu = job.mig_profile || (job.gpu_uuid ? 'whole GPU' : 'none');
  const state = job.queue_position ? `queued, #${job.queue_position}` : job.state;
  return element(
    'tr',
    {'data-job': job.job_id},
    element('td', {text: job.user}),
    element('td', {text: state, title: job.reason || ''}),
    element('td', {}, element('code', {text: job.command.join(' ')})),
    element('td', {text: gpu}),
    element('td', {text: utc(job.started_at || job.submitted_at)}),
    element('td', {text: job.ended_at ? utc(job.ended_at) : '—'}),
    element('td', {text: job.exit_code === null ? '—' : String(job.exit_code)}),
    element(
      'td',
      {},
      element('button', {type: 'button', text: 'Log', onclick: () => showJobLog(job.job_id)}),
    ),
  );
}

/** Its output (the container's while it runs, then what was kept in the user's home). */
async function showJobLog(id) {
  document.querySelector('#job-log').hidden = false;
  document.querySelector('#job-log-title').textContent = `Output of job ${id}`;
  const text = document.querySelector('#job-log pre');
  text.textContent = 'loading …';
  try {
    text.textContent = (await api('GET', `/jobs/${encodeURIComponent(id)}/logs`)).logs || '(no output yet)';
  } catch (error) {
    text.textContent = error.message;
  }
}
