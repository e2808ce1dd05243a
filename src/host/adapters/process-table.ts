import type {Processes} from '../processes.js';

/** Liveness by signal 0: EPERM means the process exists but belongs to someone else. */
export const processTable: Processes = {
  pid: process.pid,
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  },
};
