import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CONSOLE_DIR, launchBrowser, newPage, screenshots, signInThroughForm, waitUntil } from './browser';
import {
  createGroup,
  createTenant,
  createUser,
  expectStatus,
  PASSWORD,
  repoRoot,
  signIn,
  startStack,
  type SeededTenant,
  type Session,
  type Stack,
} from './harness';
import { createCollection, upload, waitForStatus } from './ingestion-support';

interface OpenApiDocument {
  components: { schemas: Record<string, { properties: Record<string, { type?: unknown }> } | undefined> };
}

/** Ingestion on a loaded 2-core machine: generous, and the wait ends as soon as the document is indexed. */
const INDEXED_TIMEOUT_MS = 180_000;

const HANDBOOK = [
  '# Travel handbook',
  '## Expenses',
  'Employees book flights through the travel desk. Receipts for hotels and trains are filed within thirty days.',
  '## Safety',
  'Before travelling abroad, register the trip with the security office and carry the emergency card.',
].join('\n\n');

describe('console in a real browser: sign in, documents, search debug, API keys, permissions', () => {
  let stack: Stack;
  let storageDir: string;
  let browser: Browser;
  let page: Page;
  let tenant: SeededTenant;
  let owner: Session;

  before(async () => {
    storageDir = await mkdtemp(path.join(tmpdir(), 'quarry-e2e-console-'));
    // One after the other: starting Chromium while the worker loads its model slows both on a busy machine.
    stack = await startStack({ env: { STORAGE_LOCAL_DIR: storageDir, CONSOLE_DIR } });
    browser = await launchBrowser();
    tenant = await createTenant(stack, 'console');
    owner = await signIn(stack, tenant.slug, tenant.ownerEmail);
    ({ page } = await newPage(browser, stack.api.url));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    await rm(storageDir, { recursive: true, force: true });
  });

  it('the console’s client is generated from the same contract the running API serves, nullable fields included', async () => {
    const served = expectStatus(await stack.http.get<OpenApiDocument>('/openapi.json'), 200, 'GET /openapi.json');
    const written = path.join(storageDir, 'openapi.json');
    execFileSync(process.execPath, [path.join(repoRoot, 'apps/api/dist/openapi-cli.js'), written], { timeout: 60_000 });
    assert.deepEqual(JSON.parse(await readFile(written, 'utf8')) as unknown, served, 'written without a server = served');
    // nestjs-zod#473 made a DTO's own nullable fields arrays; the client would then type them string[].
    const schemas = served.components.schemas;
    assert.deepEqual(schemas.DocumentDto?.properties.sourceUri, { type: ['string', 'null'] });
    assert.deepEqual(schemas.UserDto?.properties.lastLoginAt, { type: ['string', 'null'] });
    assert.deepEqual(schemas.DocumentPageDto?.properties.nextCursor, { type: ['string', 'null'] });
    assert.equal(schemas.DocumentDto?.properties.stages?.type, 'array', 'real arrays stay arrays');
  });

  it('signs in through the form, showing the API’s error for a wrong password first', async () => {
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await screenshots(page, 'sign-in');

    await page.getByLabel('Workspace').fill(tenant.slug);
    await page.getByLabel('Email').fill(tenant.ownerEmail);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /invalid|incorrect|wrong/i);

    await signInThroughForm(page, tenant.slug, tenant.ownerEmail, PASSWORD);
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').count(), 4);
    await screenshots(page, 'overview');
  });

  it('creates a collection, uploads a file by drag and drop and watches it reach "indexed"', async () => {
    await page.getByRole('link', { name: 'Documents' }).click();
    await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
    await page.getByText('No collections yet').waitFor();
    await page.getByLabel('New collection').fill('Handbook');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: 'Handbook' }).waitFor();
    // Progress comes from the live event stream: it is open (snapshot received) before anything is dropped.
    await page.locator('.section-head[data-live="true"]').waitFor({ timeout: INDEXED_TIMEOUT_MS });

    // A real drop event carrying a File, as the browser sends it when a file is dragged from the desktop.
    // Evaluated in the page, where DataTransfer exists (e2e compiles without DOM types).
    const dataTransfer = await page.evaluateHandle(
      `(() => { const t = new DataTransfer(); t.items.add(new File([${JSON.stringify(HANDBOOK)}], 'travel-handbook.md', { type: 'text/markdown' })); return t; })()`,
    );
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer });

    const progress = page.getByRole('progressbar', { name: 'travel-handbook.md: progress' }).first();
    await progress.waitFor();
    await page.locator('.upload[data-status="indexed"]').waitFor({ timeout: INDEXED_TIMEOUT_MS });
    assert.equal(await progress.getAttribute('aria-valuenow'), '100');
    const row = page.locator('tr[data-document="travel-handbook.md"]');
    await row.and(page.locator('[data-status="indexed"]')).waitFor({ timeout: INDEXED_TIMEOUT_MS });
    assert.match((await row.textContent()) ?? '', /Indexed/);

    // A file that cannot be ingested fails with its reason, and offers a retry.
    const emptyFile = await page.evaluateHandle(
      `(() => { const t = new DataTransfer(); t.items.add(new File(['   '], 'blank.txt', { type: 'text/plain' })); return t; })()`,
    );
    await page.locator('.dropzone').dispatchEvent('drop', { dataTransfer: emptyFile });
    const failedRow = page.locator('tr[data-document="blank.txt"]');
    await failedRow.and(page.locator('[data-status="failed"]')).waitFor({ timeout: INDEXED_TIMEOUT_MS });
    await failedRow.getByRole('button', { name: 'Retry blank.txt' }).waitFor();
    assert.match((await failedRow.locator('.text-danger').textContent()) ?? '', /\([A-Z_]+\)/, 'the failure shows its code');

    // Each document has its own access editor; a new one follows its collection.
    await row.getByRole('button', { name: 'Access for travel-handbook.md' }).click();
    await page.getByText('This document follows its collection’s access.').waitFor();
    await screenshots(page, 'documents');
    await row.getByRole('button', { name: 'Access for travel-handbook.md' }).click();

    // The access editor of the collection lists who may read it.
    await page.getByRole('button', { name: 'Collection access' }).click();
    const everyone = page.getByRole('checkbox', { name: 'Everyone in the workspace' });
    await everyone.waitFor();
    assert.equal(await everyone.isChecked(), true, 'a new collection is readable by everyone');
    await screenshots(page, 'documents-access');
  });

  it('search debug shows results and the candidates of every stage with timings', async () => {
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('Query').fill('receipts for hotels');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('heading', { level: 2, name: /^Results \(/ }).waitFor();
    for (const stage of ['lexical', 'dense', 'fused']) {
      const section = page.getByRole('region', { name: `Stage ${stage}` });
      await section.waitFor();
      assert.match((await section.textContent()) ?? '', /\d+ candidates? · [\d.]+ ms/);
    }
    const results = await page.locator('.result').allTextContents();
    assert.ok(results.length > 0, 'the indexed handbook is found');
    assert.match(results[0]!, /Travel handbook|travel-handbook/);
    assert.match((await page.locator('.timings').textContent()) ?? '', /total/);
    await screenshots(page, 'search-debug');
  });

  it('creates an API key (secret shown once) that works, then revokes it', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('console key');
    await page.getByRole('checkbox', { name: 'users:read' }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByLabel('Secret of the new key', { exact: true });
    await secret.waitFor();
    const token = (await secret.textContent()) ?? '';
    assert.match(token, /^qk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    expectStatus(await stack.http.get('/v1/users', { as: { bearer: token } }), 200, 'the new key works');

    const row = page.locator('tr[data-key="console key"]');
    await row.and(page.locator('[data-status="active"]')).waitFor();
    await screenshots(page, 'api-keys');
    await row.getByRole('button', { name: /Revoke/ }).click();
    await row.and(page.locator('[data-status="revoked"]')).waitFor();
    const revoked = await stack.http.get('/v1/users', { as: { bearer: token } });
    assert.equal(revoked.status, 401, 'a revoked key no longer authenticates');
  });

  it('admin tabs: people, groups and the audit log with filters', async () => {
    await createGroup(stack, owner, 'finance');
    await page.getByRole('tab', { name: 'Users' }).click();
    await page.getByRole('rowheader', { name: new RegExp(tenant.ownerEmail) }).waitFor();
    await screenshots(page, 'admin-users');

    await page.getByRole('tab', { name: 'Groups' }).click();
    await page.locator('.group-list__item', { hasText: 'finance' }).waitFor();
    await screenshots(page, 'admin-groups');

    await page.getByRole('tab', { name: 'Audit log' }).click();
    await page.getByLabel('Action').fill('api_key.revoke');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    const actionCells = page.locator('.tabpanel tbody tr td:nth-child(2)');
    // The previous (unfiltered) page stays on screen until the filtered one arrives.
    await waitUntil('only api_key.revoke events are listed', async () => {
      const actions = await actionCells.allTextContents();
      return actions.length > 0 && actions.every((action) => action === 'api_key.revoke');
    });
    assert.equal(await actionCells.count(), 1, 'one key was revoked');
    await screenshots(page, 'admin-audit');
  });

  it('a member never sees a document they may not read, in the console’s search', async () => {
    const member = await createUser(stack, owner, 'member', { label: 'reader' });
    const board = await createGroup(stack, owner, 'board');
    const secret = await createCollection(stack, owner, 'board-minutes');
    expectStatus(await stack.http.put(`/v1/collections/${secret.id}/access`, { as: owner, json: { groups: [board.id] } }), 200);
    const uploaded = await upload(stack, owner, secret.id, [
      { name: 'merger-minutes.md', content: '# Merger minutes\n\nThe board approved the hotel receipts merger in secret.' },
    ]);
    await waitForStatus(stack, owner, uploaded.body.items![0]!.document!.id, ['indexed'], INDEXED_TIMEOUT_MS);

    const { context, page: memberPage } = await newPage(browser, stack.api.url);
    try {
      await signInThroughForm(memberPage, tenant.slug, member.email, PASSWORD);
      const nav = await memberPage.getByRole('navigation', { name: 'Main' }).textContent();
      assert.doesNotMatch(nav ?? '', /Documents/, 'members do not manage documents');
      await memberPage.getByRole('link', { name: 'Search' }).click();
      await memberPage.getByLabel('Query').fill('hotel receipts merger');
      await memberPage.getByRole('button', { name: 'Search', exact: true }).click();
      await memberPage.getByRole('heading', { level: 2, name: /^Results \(/ }).waitFor();
      const text = (await memberPage.locator('main').textContent()) ?? '';
      assert.match(text, /Travel handbook|travel-handbook/, 'the readable document is found');
      assert.doesNotMatch(text, /merger-minutes|Merger minutes|approved the hotel/i, 'the unreadable document never shows');
      await screenshots(memberPage, 'search-member');
    } finally {
      await context.close();
    }
  });
});
