// Issue 22, browser test 4: a party name holding `<script>` is shown as text
// on every page that names it; a form posted without its CSRF token is refused
// and changes nothing; the session cookie carries its flags.
import { run, signIn, check, shot, url } from './lib.mjs';

const { DESK_USER, DESK_PASSWORD, DESK_CASE, DESK_NAME } = process.env;

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await signIn(context, DESK_USER, DESK_PASSWORD);
  let dialogs = 0;
  page.on('dialog', async (d) => { dialogs += 1; await d.dismiss(); });
  const shown = {};
  for (const [name, path] of [['search', `/desk/cases?q=${encodeURIComponent('张三')}`], ['queue', '/desk/review'], ['case', `/desk/cases/${DESK_CASE}`]]) {
    await page.goto(`${url}${path}`);
    const text = await page.textContent('main');
    shown[name] = text.includes(DESK_NAME);
    check(shown[name], `${name}: the name is shown as text`);
    check(await page.evaluate(() => window.__pwned === undefined), `${name}: no script of the name ran`);
    await shot(page, `safety-${name}`);
  }
  check(dialogs === 0, 'no dialog opened');

  // posted without its CSRF token (and with a wrong one): refused, nothing changed
  const form = { decision: 'return', score: '60', reasons: 'csrf-less' };
  const bare = await context.request.post(`${url}/desk/cases/${DESK_CASE}/review`, { form, maxRedirects: 0 });
  const wrong = await context.request.post(`${url}/desk/cases/${DESK_CASE}/review`, { form: { ...form, csrf: 'ab'.repeat(32) }, maxRedirects: 0 });
  check(bare.status() === 403 && wrong.status() === 403, `CSRF-less posts: ${bare.status()} / ${wrong.status()}`);
  check((await bare.text()).includes('防伪令牌'), 'the refusal says why');
  const signOut = await context.request.post(`${url}/desk/logout`, { form: {}, maxRedirects: 0 });
  check(signOut.status() === 403, `sign-out without the token: ${signOut.status()}`);
  await page.goto(`${url}/desk/cases/${DESK_CASE}`);
  check(await page.locator('p.review').count() === 0, 'no review was made');

  // the session cookie: HttpOnly, SameSite=Strict, scoped to /desk; not readable by script
  const cookie = (await context.cookies()).find((c) => c.name === 'fq_desk');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/desk', `cookie flags: ${JSON.stringify(cookie && { ...cookie, value: '…' })}`);
  check(!(await page.evaluate(() => document.cookie)).includes('fq_desk'), 'document.cookie does not show the session');
  return { shown, csrf: [bare.status(), wrong.status()], cookie: { httpOnly: cookie.httpOnly, sameSite: cookie.sameSite, secure: cookie.secure } };
});
