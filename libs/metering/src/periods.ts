export type BudgetPeriod = 'day' | 'month';
export const budgetPeriods: readonly BudgetPeriod[] = ['day', 'month'];

/** Start of the UTC day or month containing `at`. Budgets reset there. */
export function periodStart(period: BudgetPeriod, at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** Start of the next period: when a budget that is used up frees again. */
export function periodEnd(period: BudgetPeriod, at: Date): Date {
  return period === 'day'
    ? new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1))
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}
