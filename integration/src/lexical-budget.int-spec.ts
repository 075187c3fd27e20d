import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import type { TenantScope } from '@quarry/core';
import { Database } from '@quarry/db';
import { Bm25Retriever, chunkConditions } from '@quarry/retrieval';
import { createTestContext, seedTenant } from '@quarry/testing';

/**
 * The lexical candidate budget (MaxScore's essential terms) against exhaustive BM25 on the real database:
 * what it leaves out, and when it can prove that leaving it out changed nothing.
 */
describe('lexical retrieval: candidate budget', () => {
  let app: INestApplicationContext;
  let db: Database;
  let tenant: TenantScope;
  let collectionId: string;

  before(async () => {
    app = await createTestContext([]);
    db = app.get(Database);
    tenant = await seedTenant(db, 'lex-budget');
    collectionId = randomUUID();
    await db.tenant(tenant, (tx) => tx.collection.create({ data: { id: collectionId, tenantId: tenant.tenantId, name: 'budget' } }));
    // 'common' is in 30 chunks, 'rare' in 3 (one with 'common' too), 'scarce' in 1.
    const texts = [
      ...Array.from({ length: 28 }, (_, index) => `common filler ${index} words here`),
      'common rare together',
      'rare alone here',
      'rare once more here',
      'common scarce pair',
    ];
    for (const [index, text] of texts.entries()) {
      const documentId = randomUUID();
      await db.tenant(tenant, async (tx) => {
        await tx.document.create({ data: { id: documentId, tenantId: tenant.tenantId, collectionId, lineageId: documentId, title: `d${index}`, sourceType: 'upload', acl: ['everyone'] } });
        await tx.$executeRaw`
          INSERT INTO chunks (id, tenant_id, document_id, ordinal, text, acl)
          VALUES (${randomUUID()}::uuid, ${tenant.tenantId}::uuid, ${documentId}::uuid, 0, ${text}, ${['everyone']}::text[])`;
      });
    }
  });

  after(async () => {
    await app.close();
  });

  const query = (text: string, limit: number) => ({ text, language: 'english', limit, filter: chunkConditions([collectionId], ['everyone'], {}) });

  it('scores every matching chunk while the postings fit the budget (the default here)', async () => {
    const retriever = new Bm25Retriever(db);
    const { candidates, plan } = await retriever.searchWithPlan(tenant, query('common rare', 100));
    assert.equal(candidates.length, 32, 'all 30 + 2 chunks holding either term');
    assert.deepEqual(plan, { terms: 2, essentialTerms: 2, provablyExact: true });
  });

  it('takes candidates from the rarest terms only beyond the budget, scoring them with every term', async () => {
    const budgeted = new Bm25Retriever(db, { candidateBudget: 5 });
    const exhaustive = new Bm25Retriever(db, { candidateBudget: Number.POSITIVE_INFINITY });
    const { candidates, plan } = await budgeted.searchWithPlan(tenant, query('common rare', 100));
    assert.equal(plan.essentialTerms, 1, "'common' (30 postings) does not fit a budget of 5");
    assert.equal(candidates.length, 3, "only the chunks holding 'rare'");
    const full = await exhaustive.search(tenant, query('common rare', 100));
    const byId = new Map(full.map((candidate) => [candidate.chunkId, candidate.score]));
    for (const candidate of candidates) assert.ok(Math.abs(candidate.score - byId.get(candidate.chunkId)!) < 1e-9, 'same score as exhaustive BM25');
    // The top 3 are exactly the exhaustive top 3 here, but with 30 chunks left out the bound cannot show it.
    assert.equal(plan.provablyExact, false);
  });

  it('proves the budgeted top k exact when the left-out terms cannot reach the k-th score', async () => {
    const budgeted = new Bm25Retriever(db, { candidateBudget: 3 });
    const exhaustive = new Bm25Retriever(db, { candidateBudget: Number.POSITIVE_INFINITY });
    // Only 'scarce' (1 posting) fits a budget of 3; 'common' is in 30 of 32 chunks, so it adds little (low idf).
    const { candidates, plan } = await budgeted.searchWithPlan(tenant, query('scarce common', 1));
    assert.equal(plan.essentialTerms, 1);
    assert.equal(plan.provablyExact, true, 'common can add less than the top score');
    const full = await exhaustive.search(tenant, query('scarce common', 1));
    assert.deepEqual(candidates.map((candidate) => candidate.chunkId), full.map((candidate) => candidate.chunkId));
  });
});
