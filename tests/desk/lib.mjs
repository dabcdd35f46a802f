// Shared steps of the desk's browser tests: real headless Chromium (Debian's
// `chromium`) driven by playwright-core. Each script reads its inputs from the
// environment (DESK_URL, DESK_SHOTS, and its own), prints one JSON line with
// what it saw, and exits non-zero on a failed check.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const url = process.env.DESK_URL;
const shots = process.env.DESK_SHOTS || 'target/desk-screenshots';

export async function browser() {
  if (!url) throw new Error('DESK_URL is not set');
  mkdirSync(shots, { recursive: true });
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
}

export function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

export async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

/** Signs in through the form; returns the page on the desk's home. */
export async function signIn(context, username, password) {
  const page = await context.newPage();
  await page.goto(`${url}/desk/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check(page.url().endsWith('/desk/'), `signed in as ${username} (at ${page.url()})`);
  return page;
}

/** Runs a test body, printing its result as JSON; a thrown error fails the process. */
export async function run(body) {
  const b = await browser();
  try {
    const out = await body(b);
    console.log(JSON.stringify(out ?? {}));
  } catch (e) {
    console.error(e && e.stack ? e.stack : String(e));
    process.exitCode = 1;
  } finally {
    await b.close();
  }
}
