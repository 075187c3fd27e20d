/**
 * Cost-control overhead per model call: ModelBudgetService.authorize (kill switch, budget counters in
 * Postgres, rate limits in Redis) and recordModelCall (usage event, counter upsert, alerts) on two instances
 * that share one database and one Redis, sequentially and under concurrency. Checks that no call is lost.
 *
 * Run: npm run bench:budget (migrates QUARRY_DB_NAME, default quarry_bench_budget, first).
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { AuditModule } from '@quarry/audit';
import type { TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { percentile } from '@quarry/evals';
import { BudgetSettingsStore, MeteringModule, ModelBudgetService } from '@quarry/metering';
import { createTestContext, seedTenant, testConfig, uniqueSuffix } from '@quarry/testing';
import { runBenchmark, writeResultFiles } from './entry';
import { log } from './measure';
import { round } from './processes';

const tenants = 10;
const usersPerTenant = 5;
const sequentialCalls = 300;
const concurrentCalls = 2_000;
const concurrency = 32;
const tokensPerCall = 1_000;

interface Phase {
  calls: number;
  concurrency: number;
  seconds: number;
  callsPerSec: number;
  authorizeMs: { p50: number; p95: number; p99: number };
  recordMs: { p50: number; p95: number; p99: number };
  allowed: number;
}

async function main(): Promise<void> {
  const config = testConfig({ REDIS_PREFIX: `bench-budget-${uniqueSuffix()}`, LOG_LEVEL: 'error', DB_POOL_MAX: '10' });
  const instances: INestApplicationContext[] = [
    await createTestContext([MeteringModule, AuditModule], config),
    await createTestContext([MeteringModule, AuditModule], config),
  ];
  try {
    const db = instances[0]!.get(Database);
    const services = instances.map((app) => app.get(ModelBudgetService));
    const scopes: TenantScope[] = [];
    for (let i = 0; i < tenants; i += 1) {
      const scope = await seedTenant(db, 'bench-budget');
      // Every check runs (budgets, alerts, rate limits), with limits high enough that none blocks.
      await instances[0]!.get(BudgetSettingsStore).update(scope, {
        tenantTokenBudget: 100_000_000,
        userCostBudgetUsd: 1_000,
        tenantRequestsPerMinute: 1_000_000,
        userRequestsPerMinute: 1_000_000,
        tenantTokensPerMinute: 1_000_000_000,
        userTokensPerMinute: 1_000_000_000,
      });
      scopes.push(scope);
    }
    const users = scopes.map(() => Array.from({ length: usersPerTenant }, () => randomUUID()));

    const run = async (calls: number, parallel: number): Promise<Phase> => {
      const authorizeMs: number[] = [];
      const recordMs: number[] = [];
      let allowed = 0;
      let next = 0;
      const started = performance.now();
      const lane = async (laneIndex: number): Promise<void> => {
        for (let i = next++; i < calls; i = next++) {
          const service = services[(i + laneIndex) % services.length]!;
          const t = i % tenants;
          const who = { userId: users[t]![i % usersPerTenant]! };
          const a = performance.now();
          const decision = await service.authorize(scopes[t]!, who, 'gpt-4o-mini', tokensPerCall);
          authorizeMs.push(performance.now() - a);
          if (decision.action === 'allow') allowed += 1;
          const r = performance.now();
          await service.recordModelCall(scopes[t]!, who, { model: 'gpt-4o-mini', inputTokens: tokensPerCall * 0.8, outputTokens: tokensPerCall * 0.2, purpose: 'bench' });
          recordMs.push(performance.now() - r);
        }
      };
      await Promise.all(Array.from({ length: parallel }, (_, laneIndex) => lane(laneIndex)));
      const seconds = (performance.now() - started) / 1000;
      const stats = (values: number[]) => ({ p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), p99: round(percentile(values, 99)) });
      return { calls, concurrency: parallel, seconds: round(seconds), callsPerSec: round(calls / seconds), authorizeMs: stats(authorizeMs), recordMs: stats(recordMs), allowed };
    };

    const loadAverageAtStart = loadavg()[0]!;
    log(`sequential: ${sequentialCalls} calls`);
    const sequential = await run(sequentialCalls, 1);
    log(`concurrent: ${concurrentCalls} calls, ${concurrency} at once over 2 instances`);
    const concurrent = await run(concurrentCalls, concurrency);

    // Every recorded call must be in the counters and the usage events: nothing lost under concurrency.
    let countedTokens = 0;
    let usageEvents = 0;
    for (const scope of scopes) {
      const [counter, events] = await db.tenant(scope, async (tx) => [
        await tx.usageCounter.findFirst({ where: { tenantId: scope.tenantId, subjectType: 'tenant', period: 'month' } }),
        await tx.usageEvent.count({ where: { tenantId: scope.tenantId, kind: 'model.call' } }),
      ] as const);
      countedTokens += Number(counter?.tokens ?? 0);
      usageEvents += events;
    }
    const expectedCalls = sequentialCalls + concurrentCalls;
    const result = {
      date: new Date().toISOString(),
      settings: {
        machine: { cpuCount: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, loadAverageAtStart: round(loadAverageAtStart) },
        tenants,
        usersPerTenant,
        tokensPerCall,
        instances: 2,
        dbPoolMaxPerInstance: config.DB_POOL_MAX,
      },
      sequential,
      concurrent,
      checks: {
        expectedCalls,
        usageEvents,
        countedTokens,
        expectedTokens: expectedCalls * tokensPerCall,
        nothingLost: usageEvents === expectedCalls && countedTokens === expectedCalls * tokensPerCall,
      },
    };
    const markdown = [
      '# Cost controls: overhead per model call',
      '',
      `${result.date}; ${result.settings.machine.cpuCount} CPUs, Node ${process.version}, load average at start ${result.settings.machine.loadAverageAtStart}; ` +
        `2 instances (Nest contexts) sharing Postgres and Redis, ${tenants} tenants × ${usersPerTenant} users, budgets and rate limits set (none reached).`,
      '',
      '| phase | calls | at once | calls/s | authorize p50 / p95 / p99 ms | record p50 / p95 / p99 ms |',
      '| --- | --- | --- | --- | --- | --- |',
      ...[sequential, concurrent].map(
        (p, i) =>
          `| ${i === 0 ? 'sequential' : 'concurrent'} | ${p.calls} | ${p.concurrency} | ${p.callsPerSec} | ${p.authorizeMs.p50} / ${p.authorizeMs.p95} / ${p.authorizeMs.p99} | ${p.recordMs.p50} / ${p.recordMs.p95} / ${p.recordMs.p99} |`,
      ),
      '',
      `Checks: ${usageEvents} of ${expectedCalls} usage events, ${countedTokens} of ${expectedCalls * tokensPerCall} tokens in the counters: ` +
        `${result.checks.nothingLost ? 'nothing lost' : '**calls lost**'}.`,
      '',
    ].join('\n');
    await writeResultFiles(path.resolve(__dirname, '../results'), 'model-budget', result, markdown);
    if (!result.checks.nothingLost) process.exitCode = 1;
  } finally {
    await Promise.all(instances.map((app) => app.close()));
  }
}

runBenchmark('model-budget', main, () => undefined);
