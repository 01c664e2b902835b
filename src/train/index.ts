export {
  AdamW, SGD, clipGradNorm, Optimizer, ParamGroup, ParamGroupSettings, ParamGroupState, AdamWOptions, SGDOptions,
  AdamWStateDict, SGDStateDict, AdamWParamState, SGDParamState, OptimizerStateDict,
} from "./optim";
export { warmupCosine, twoStage, constant, Schedule, ScheduleValue, WarmupCosineOptions, TwoStageOptions, ConstantOptions } from "./schedule";
export { Trainer, TrainerOptions, TrainableModel, FitOptions, FitResult, TrainingMetrics, TrainingProgress, TrainingDivergedError } from "./trainer";
export { saveRunRecord, RunRecord, RunRecordOptions, SvgSource } from "./record";
