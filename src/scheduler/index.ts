// Scheduled jobs that run once per tick across every Steward instance (src/scheduler/scheduler.ts).

export { pruneScheduledRuns } from './history.ts'
export { createScheduler, InvalidCronError, type Scheduler, ticksResumedAfter } from './scheduler.ts'
