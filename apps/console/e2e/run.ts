/**
 * Browser tests of the console against a RUNNING stack (gateway serving dist/apps/console at `/`,
 * the four services, demo data loaded, ideally the simulator running). Debian's Chromium, headless,
 * driven by playwright-core.
 *
 *   node tools/browser/ensure-chromium.mjs          # once per machine (apt-get install chromium)
 *   YIYANG_DEMO_PASSWORD=… node -r @swc-node/register apps/console/e2e/run.ts
 *
 * Env: CONSOLE_URL (http://127.0.0.1:3000)  YIYANG_DEMO_PASSWORD (required)  CHROMIUM_PATH (/usr/bin/chromium)
 *      E2E_USER_<ROLE> to override a demo user name (e.g. E2E_USER_GUARDIAN=guardian2)
 *      E2E_ONLY=<substring> to run only the matching checks   E2E_ARTIFACTS (tmp/e2e-artifacts)
 * Screenshots of every check (pass or fail) and results.json are kept under E2E_ARTIFACTS/<run>/.
 * Exit code 0 only when every check passed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const BASE = (process.env['CONSOLE_URL'] ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const PASSWORD = process.env['YIYANG_DEMO_PASSWORD'] ?? '';
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../../..');
const RUN_DIR = path.join(process.env['E2E_ARTIFACTS'] ?? path.join(ROOT, 'tmp/e2e-artifacts'), new Date().toISOString().replace(/[:.]/g, '-'));
const ONLY = process.env['E2E_ONLY'];

type RoleName = 'civil_affairs_admin' | 'provider_operator' | 'caregiver' | 'guardian' | 'elder' | 'assessor' | 'auditor';
const DEFAULT_USERS: Record<RoleName, string> = {
  civil_affairs_admin: 'admin',
  provider_operator: 'operator',
  caregiver: 'caregiver',
  guardian: 'guardian',
  elder: 'elder',
  assessor: 'assessor',
  auditor: 'auditor',
};
const userOf = (role: RoleName) => process.env[`E2E_USER_${role.toUpperCase()}`] ?? DEFAULT_USERS[role];
/** Where each role must land after signing in (apps/console/src/auth/roles.ts homeOf). */
const HOME: Record<RoleName, string> = {
  civil_affairs_admin: '/supervisor',
  auditor: '/supervisor',
  provider_operator: '/desk/orders',
  assessor: '/desk/elders',
  guardian: '/family',
  elder: '/family',
  caregiver: '/caregiver',
};

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--lang=zh-CN',
];

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  screenshots: string[];
}

class Check {
  readonly shots: string[] = [];
  constructor(
    readonly name: string,
    readonly page: Page,
  ) {}
  async shot(label: string): Promise<void> {
    const file = path.join(RUN_DIR, `${this.name.replace(/[^\w-]+/g, '_')}--${label}.png`);
    await this.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    this.shots.push(path.relative(ROOT, file));
  }
}

function fail(message: string): never {
  throw new Error(message);
}

async function signIn(page: Page, role: RoleName): Promise<void> {
  await page.goto(`${BASE}/login`, { waitUntil: 'domcontentloaded' });
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${BASE}/login`, { waitUntil: 'domcontentloaded' });
  await page.locator('#username').fill(userOf(role));
  await page.locator('#password').fill(PASSWORD);
  await page.locator('[data-testid=login-submit]').click();
  const error = page.locator('[data-testid=login-error]');
  // Password hashing (argon2id) and the audit write make sign-in the slowest call on a busy machine.
  await Promise.race([
    page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 60_000, waitUntil: 'commit' }),
    error.waitFor({ timeout: 60_000 }).then(async () => fail(`${userOf(role)} could not sign in: ${await error.innerText()}`)),
  ]);
}

/** Calls the public API from inside the page with the signed-in user's token (what the console itself does). */
async function apiFromPage(page: Page, method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  return page.evaluate(
    async ({ method, apiPath, body }) => {
      const s = JSON.parse(localStorage.getItem('yiyang.session') ?? 'null') as { accessToken?: string } | null;
      const res = await fetch(`/api/v1${apiPath}`, {
        method,
        headers: { 'content-type': 'application/json', ...(s?.accessToken ? { authorization: `Bearer ${s.accessToken}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = text;
      }
      return { status: res.status, json };
    },
    { method, apiPath, body },
  );
}

const CHECKS: { name: string; run: (c: Check) => Promise<void> }[] = [];
const check = (name: string, run: (c: Check) => Promise<void>) => CHECKS.push({ name, run });

// 1. Every role signs in and lands on its own home page.
for (const role of Object.keys(HOME) as RoleName[]) {
  check(`sign-in-${role}`, async (c) => {
    await signIn(c.page, role);
    await c.page.waitForURL((u) => u.pathname.startsWith(HOME[role]), { timeout: 15_000, waitUntil: 'commit' }).catch(() => fail(`${role} landed on ${c.page.url()}, expected ${HOME[role]}`));
    await c.page.waitForLoadState('networkidle').catch(() => undefined);
    await c.shot('home');
    if (await c.page.locator('[data-testid=forbidden]').count()) fail(`${role} sees the 403 page on its own home`);
  });
}

// 1b. The caregiver's phone view shows today's route from dispatch's /my-day (or says the day is empty).
check('caregiver-my-day', async (c) => {
  await signIn(c.page, 'caregiver');
  await c.page.getByRole('tab', { name: '今日服务' }).click();
  const summary = c.page.locator('[data-testid=day-summary]');
  const empty = c.page.getByText('今天没有安排服务');
  await Promise.race([summary.waitFor({ timeout: 30_000 }), empty.waitFor({ timeout: 30_000 })]).catch(() => fail('My day showed neither the route summary nor the empty day'));
  if (await c.page.locator('[data-testid=caregiver-page] .ant-alert-error').count()) fail('My day shows an error');
  const day = await apiFromPage(c.page, 'GET', '/my-day');
  const body = day.json as { route?: unknown[]; summary?: { stops?: number } } | null;
  if (day.status !== 200 || !Array.isArray(body?.route)) fail(`/my-day answered ${day.status}: ${JSON.stringify(day.json).slice(0, 200)}`);
  if ((await summary.count()) && body?.summary?.stops !== (await c.page.locator('[data-testid=day-item]').count())) fail('the route on screen does not match /my-day');
  await c.shot('my-day');
});

// 2. The supervisor's dashboard draws its charts (canvas with pixels) and the region figures.
check('dashboard-renders-charts', async (c) => {
  await signIn(c.page, 'civil_affairs_admin');
  await c.page.waitForSelector('[data-testid=dashboard]', { timeout: 15_000 });
  await c.page.waitForSelector('[data-chart="service-map"] canvas', { timeout: 30_000 });
  await c.page.waitForFunction(() => document.querySelectorAll('.yy-chart canvas').length >= 3, undefined, { timeout: 30_000 });
  await c.page.waitForTimeout(1_500); // let ECharts finish its first frame
  const painted = await c.page.evaluate(() =>
    [...document.querySelectorAll<HTMLCanvasElement>('.yy-chart canvas')].map((cv) => {
      const ctx = cv.getContext('2d');
      if (!ctx || !cv.width || !cv.height) return false;
      const data = ctx.getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 3; i < data.length; i += 4 * 7) if (data[i] !== 0) return true;
      return false;
    }),
  );
  await c.shot('dashboard');
  if (painted.filter(Boolean).length < 3) fail(`only ${painted.filter(Boolean).length} of ${painted.length} charts have pixels`);
  // The registry counts the 15-minute circle over the whole district: give it time on a busy database.
  await c.page
    .waitForFunction(() => /\d/.test(document.querySelector('[data-testid=kpi-coverage] .ant-statistic-content')?.textContent ?? ''), undefined, { timeout: 60_000 })
    .catch(async () => fail(`the 15-minute coverage figure stayed empty (${await c.page.locator('[data-testid=kpi-coverage]').innerText()})`));
  await c.shot('dashboard-with-coverage');
  // Drill down one level (county → street) and see the charts again.
  const drill = c.page.locator('[data-testid=drill-down]');
  if (await drill.count()) {
    await drill.click();
    await c.page.locator('.ant-select-item-option').first().click();
    await c.page.waitForFunction(() => document.querySelectorAll('.ant-breadcrumb li').length >= 3, undefined, { timeout: 10_000 });
    await c.page.waitForSelector('[data-chart="service-map"] canvas', { timeout: 30_000 });
    await c.shot('drilled-to-street');
  }
});

// 3. A guardian orders a service for their parent and sees a caregiver assigned.
check('guardian-orders-and-sees-assigned', async (c) => {
  await signIn(c.page, 'guardian');
  await c.page.waitForSelector('[data-testid=catalogue-menu] button', { timeout: 20_000 });
  const before = await c.page.locator('[data-testid=family-order]').count();
  const item = c.page.locator('[data-testid=catalogue-menu] button[data-item="HOME_CLEANING"]');
  await ((await item.count()) ? item : c.page.locator('[data-testid=catalogue-menu] button').first()).click();
  await c.page.locator('#order-confirm').click();
  await c.page.waitForFunction((n) => document.querySelectorAll('[data-testid=family-order]').length > n, before, { timeout: 20_000 });
  await c.shot('ordered');
  const assigned = ['ASSIGNED', 'ACCEPTED', 'EN_ROUTE', 'CHECKED_IN', 'CHECKED_OUT', 'VERIFIED', 'FLAGGED', 'COMPLETED'];
  // The newest order is listed first among the open ones; matching offers it to a caregiver.
  await c.page
    .waitForFunction(
      (states) => {
        const first = document.querySelector('[data-testid=family-order]');
        return !!first && states.includes(first.getAttribute('data-state') ?? '');
      },
      assigned,
      { timeout: 60_000 },
    )
    .catch(async () => fail(`the new order stayed ${await c.page.locator('[data-testid=family-order]').first().getAttribute('data-state')} for 60 s`));
  await c.shot('assigned');
});

// 4. An operator acknowledges an alert from the queue (raised by the simulator's devices).
check('operator-acknowledges-alert', async (c) => {
  let role: RoleName = 'provider_operator';
  await signIn(c.page, role);
  await c.page.goto(`${BASE}/desk/alerts`);
  const ack = c.page.locator('[data-testid=alert-ack]');
  const appeared = await ack
    .first()
    .waitFor({ timeout: 45_000 })
    .then(() => true)
    .catch(() => false);
  if (!appeared) {
    // The provider sees alerts of its own clients only; the bureau's desk sees the district's.
    await c.shot('provider-queue-empty');
    role = 'civil_affairs_admin';
    await signIn(c.page, role);
    await c.page.goto(`${BASE}/desk/alerts`);
    await ack.first().waitFor({ timeout: 60_000 }).catch(() => fail('no unanswered alert appeared in the queue within 60 s (is the simulator running?)'));
  }
  const rows = await ack.count();
  await c.shot(`queue-${role}`);
  await ack.first().click();
  await c.page.locator('.ant-modal-confirm .ant-btn-primary').click();
  const outcome = await Promise.race([
    c.page.locator('.ant-message-success, .ant-message-notice-success').first().waitFor({ timeout: 45_000 }).then(() => 'ok'),
    c.page.locator('.ant-message-error, .ant-message-notice-error').first().waitFor({ timeout: 45_000 }).then(async () => `error: ${await c.page.locator('.ant-message-error, .ant-message-notice-error').first().innerText()}`),
  ]).catch(() => 'timeout');
  await c.shot('acknowledged');
  if (outcome !== 'ok') fail(`acknowledging did not go through (${outcome})`);
  await c.page.waitForFunction((n) => document.querySelectorAll('[data-testid=alert-ack]').length < n, rows, { timeout: 15_000 }).catch(() => undefined);
});

// 5. A role cannot open another role's pages: the console's guard shows a plain 403 page, and the API refuses too.
check('roles-cannot-open-other-pages', async (c) => {
  const cases: { role: RoleName; path: string; api: string }[] = [
    { role: 'guardian', path: '/supervisor', api: '/dashboards/130203000000' },
    { role: 'caregiver', path: '/desk/orders', api: '/budgets' },
    { role: 'provider_operator', path: '/desk/budgets', api: '/budgets' },
    { role: 'civil_affairs_admin', path: '/caregiver', api: '/my-day' },
  ];
  for (const k of cases) {
    await signIn(c.page, k.role);
    await c.page.goto(`${BASE}${k.path}`);
    await c.page.locator('[data-testid=forbidden]').waitFor({ timeout: 10_000 }).catch(() => fail(`${k.role} opened ${k.path} without a 403 page`));
    const text = await c.page.locator('[data-testid=forbidden]').innerText();
    if (!text.includes('无权访问')) fail(`the 403 page is not in plain zh-CN: ${text}`);
    await c.shot(`${k.role}-${k.path.replace(/\//g, '_')}`);
    const res = await apiFromPage(c.page, 'GET', k.api);
    if (res.status !== 403) fail(`${k.role} GET /api/v1${k.api} answered ${res.status}, expected 403`);
  }
});

// 6. English switch.
check('english-switch', async (c) => {
  await signIn(c.page, 'civil_affairs_admin');
  await c.page.locator('[data-testid=lang-switch]').getByText('English').click();
  await c.page.getByText('Sign out').waitFor({ timeout: 5_000 });
  await c.shot('english');
  await c.page.locator('[data-testid=lang-switch]').getByText('中文').click();
});

async function main(): Promise<void> {
  if (!PASSWORD) fail('YIYANG_DEMO_PASSWORD is not set (the password of the demo users printed by npm start)');
  if (!existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: run node tools/browser/ensure-chromium.mjs`);
  const up = await fetch(`${BASE}/login`).catch(() => null);
  if (!up?.ok) fail(`the console is not served at ${BASE}/login (${up?.status ?? 'no answer'}); build it (nx run console:build) and start the stack`);
  mkdirSync(RUN_DIR, { recursive: true });
  const profile = mkdtempSync(path.join(tmpdir(), 'yiyang-e2e-'));
  const results: Result[] = [];
  let context: BrowserContext | null = null;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1440, height: 900 },
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      permissions: ['geolocation'],
      geolocation: { latitude: 39.6309, longitude: 118.1802 },
    });
    context.setDefaultTimeout(30_000);
    context.setDefaultNavigationTimeout(60_000);
    for (const { name, run } of CHECKS) {
      if (ONLY && !name.includes(ONLY)) continue;
      const page = await context.newPage();
      if (name.includes('caregiver')) await page.setViewportSize({ width: 390, height: 844 });
      const c = new Check(name, page);
      const started = Date.now();
      try {
        await run(c);
        results.push({ name, ok: true, ms: Date.now() - started, screenshots: c.shots });
        process.stdout.write(`  ✓ ${name} (${Date.now() - started} ms)\n`);
      } catch (error) {
        await c.shot('failure');
        const message = error instanceof Error ? error.message : String(error);
        results.push({ name, ok: false, ms: Date.now() - started, error: message, screenshots: c.shots });
        process.stdout.write(`  ✗ ${name}: ${message}\n`);
      } finally {
        await page.close().catch(() => undefined);
      }
    }
  } finally {
    await context?.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
  writeFileSync(path.join(RUN_DIR, 'results.json'), JSON.stringify({ base: BASE, at: new Date().toISOString(), results }, null, 2));
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`console e2e: ${results.length - failed} passed, ${failed} failed — screenshots in ${path.relative(ROOT, RUN_DIR)}\n`);
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`console e2e could not run: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
