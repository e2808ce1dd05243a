import {formatDuration} from '../../src/core/duration.js';
import {gpuDescription, stoppedGpu} from '../../src/session/banner.js';
import {isQueued, ordinal, type QueuedView} from '../../src/session/session-queue.js';
import type {SessionView} from '../../src/session/session-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {diskText} from '../../src/homes/disk-text.js';
import type {HomeDisk} from '../../src/homes/home-quotas.js';
import {formatTime, relativeTime} from '../../cli/output.js';

const show: Handler = async ({args}, context): Promise<(SessionView & {disk?: HomeDisk}) | QueuedView> => {
  const session = await (await context.services().sessionQueries()).showOrQueued(args.session!);
  if (isQueued(session)) return showQueued(session, context.out.log);
  const rows: Array<[string, string | number]> = [
    ['ID', session.session_id],
    ['User', `${session.ssh_user} (uid ${session.uid})`],
    ['Status', session.status],
    ['Connect', session.ssh_command],
    [
      'GPU',
      stoppedGpu(session)
        ? `${stoppedGpu(session)} ${session.stopped_gpu!.gpu_uuid}`
        : gpuDescription(session),
    ],
    ['Workspace', session.workspace],
    ['Image', session.image],
    [
      'Container',
      `${session.container_name}${session.container_id ? ` (${session.container_id.slice(0, 12)})` : ''}`,
    ],
    ['Created', `${formatTime(session.created_at)} (${relativeTime(session.created_at)})`],
    session.status === 'stopped' && session.stopped_at
      ? [
          'Stopped',
          `${formatTime(session.stopped_at)} (${relativeTime(session.stopped_at)}); ${formatDuration(session.remaining_ms ?? 0)} ` +
            `of its time left when started; removed ${formatTime(new Date(Date.parse(session.stopped_at) + context.settings().stoppedRetention).toISOString())} unless started`,
        ]
      : ['Expires', `${formatTime(session.expires_at)} (${relativeTime(session.expires_at)})`],
    [
      'Active',
      session.last_active_at
        ? `${formatTime(session.last_active_at)} (${relativeTime(session.last_active_at)}, ${session.last_active_reason})`
        : context.settings().idleTimeout === undefined
          ? 'not tracked (idleTimeout is off)'
          : 'not seen active since creation',
    ],
  ];
  if (session.gpu_idle) rows.push(['GPU idle', session.gpu_idle.text]);
  // docs/admin/sessions.md "The in-session command": a keep asked for inside the session, and who last extended it.
  if (session.keep_until)
    rows.push([
      'Keep',
      `no idle stop until ${formatTime(session.keep_until)} (${relativeTime(session.keep_until)})`,
    ]);
  if (session.last_extended_by) rows.push(['Extended', `last by ${session.last_extended_by}`]);
  // The home's use under its quota (docs/admin/disk-quotas.md), when one applies.
  const disk = await (await context.services().users()).disk(session.ssh_user);
  if (disk) rows.splice(6, 0, ['Disk', diskText(disk)]);
  for (const [label, value] of rows) context.out.log(`${(label + ':').padEnd(11)} ${value}`);
  return disk ? {...session, disk} : session;
};
export default show;

/** A queued create (docs/admin/users-and-limits.md "Users and limits"): who, its place in line and since when. */
function showQueued(request: QueuedView, log: (line: string) => void): QueuedView {
  const rows = [
    ['ID', request.session_id],
    ['User', request.ssh_user],
    ['Status', `queued: ${ordinal(request.queue_position)} in line for ${request.waiting_for}`],
    ['Queued', `${formatTime(request.queued_at)} (${relativeTime(request.queued_at)})`],
  ];
  for (const [label, value] of rows) log(`${(label + ':').padEnd(11)} ${value}`);
  return request;
}
