/**
 * "Your queued request started" (docs/admin/notifications-and-idleness.md "Notifications"): a session request, or a batch job that
 * waited in line (src/jobs/job-notices.ts). The queue calls it after a start; recorded under the
 * lock, then delivered at once.
 */
import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {addJobNotice, waitedInLine} from '../jobs/job-notices.js';
import type {QueuedRequest} from '../state/state-data.js';
import {noticeTexts} from './notice-text.js';
import type {Notifier} from './notifier.js';

export function notifyStartedWith(
  notifier: () => Promise<Pick<Notifier, 'record' | 'deliver'>>,
  config: Pick<Config, 'smtpUrl' | 'notifyWebhook' | 'backend'>,
  clock: Clock,
): (entry: QueuedRequest) => Promise<void> {
  return async (entry) => {
    const made = await notifier();
    const now = clock.now().getTime();
    await made.record((notices, state) => {
      if (entry.kind !== 'job') {
        notices.add({
          event: 'queue-started',
          user: entry.user,
          session: entry.id,
          text: noticeTexts.queueStarted(entry.id, entry.user, entry.waiting_for),
          data: {waiting_for: entry.waiting_for, queued_at: entry.queued_at},
        });
        return;
      }
      // A job that started at once: she just submitted it, nothing to tell.
      const job = state.jobs?.find((candidate) => candidate.id === entry.id);
      if (job?.state === 'running' && waitedInLine(job, now))
        addJobNotice(state, config, now, job, 'job-started');
    });
    await made.deliver();
  };
}
