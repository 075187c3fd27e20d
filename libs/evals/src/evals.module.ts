import { Module } from '@nestjs/common';
import { DocumentsModule } from '@quarry/documents';
import { JobProducer } from '@quarry/jobs';
import { RetrievalModule } from '@quarry/retrieval';
import { DatasetsService } from './datasets.service';
import { EvalQueue } from './eval-queue';
import { EvalRunRecovery } from './eval-run-recovery';
import { EvalRunner } from './eval-runner';
import { RunsService } from './runs.service';

/** The API side of evals: datasets, runs (queued for the worker), comparisons and the gate. Needs DbModule and CONFIG. */
@Module({
  imports: [DocumentsModule],
  providers: [JobProducer, EvalQueue, DatasetsService, RunsService],
  exports: [DatasetsService, RunsService],
})
export class EvalsModule {}

/** The worker side: executes queued runs through SearchService and re-queues runs whose job was lost. Needs DbModule and a CONFIG with the embedding settings. */
@Module({
  imports: [DocumentsModule, RetrievalModule],
  providers: [JobProducer, EvalQueue, EvalRunner, EvalRunRecovery],
  exports: [EvalRunner, EvalRunRecovery],
})
export class EvalRunnerModule {}
