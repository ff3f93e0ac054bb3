export { averageCheckpoints } from './average.js';
export type { Evaluation } from './evaluate.js';
export type { Schedule } from './schedule.js';
export { type EvalEntry, type FitOptions, type HistoryEntry, type Pair, type StepEntry, Trainer, type TrainerOptions } from './trainer.js';
