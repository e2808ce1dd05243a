import type {Config} from '../config/config.js';
import type {BudgetUse} from '../audit/metrics.js';
import type {StateData} from '../state/state-data.js';
import {effectiveLimits} from './user-limits.js';

/**
 * Every known user with a GPU-hour budget (their own, their group's or the setting's), with what
 * they used in its window; the audit log is read once, and not at all when no budget applies.
 */
export async function budgetUses(
  config: Config,
  state: StateData,
  gpuHoursOfUsers: (users: Array<{user: string; windowMs: number}>) => Promise<Map<string, number>>,
): Promise<BudgetUse[]> {
  const budgets = Object.keys(state.users).flatMap((user) => {
    const budget = effectiveLimits(config, user, state.users[user]).gpuHourBudget.value;
    return budget ? [{user, windowMs: budget.windowMs, budget: budget.hours}] : [];
  });
  if (budgets.length === 0) return [];
  const used = await gpuHoursOfUsers(budgets);
  return budgets.map(({user, budget}) => ({user, used: used.get(user) ?? 0, budget}));
}
