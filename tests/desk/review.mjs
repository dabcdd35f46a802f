// Issue 22, browser test 1 (the desk's half): the judicial office opens a case
// from its review queue and returns it (DESK_STEP=return) or passes it
// (DESK_STEP=pass). The Rust test (tests/tests/desk_e2e.rs) drives the
// mediator's phone core between the two steps.
import { run, signIn, check, shot, url } from './lib.mjs';

const { DESK_USER, DESK_PASSWORD, DESK_CASE, DESK_STEP } = process.env;

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await signIn(context, DESK_USER, DESK_PASSWORD);
  await page.goto(`${url}/desk/review`);
  check(await page.locator(`text=${DESK_CASE}`).count() > 0, 'the case is in the review queue');
  await Promise.all([page.waitForNavigation(), page.click(`a:text("${DESK_CASE}")`)]);
  const missing = await page.locator('table.checklist td.missing').count();
  const photos = await page.locator('img.photo').count();
  // every photo shown inline is served by the desk to this user, as an image
  let loaded = 0;
  for (const src of await page.$$eval('img.photo', (imgs) => imgs.map((i) => i.src))) {
    const r = await context.request.get(src);
    if (r.status() === 200 && (r.headers()['content-type'] || '').startsWith('image/')) loaded += 1;
  }
  if (DESK_STEP === 'return') {
    await page.check('input[name=decision][value=return]');
    await page.fill('textarea[name=reasons]', '请补齐权利义务告知书和身份证明');
  } else {
    await page.check('input[name=decision][value=pass]');
  }
  await page.fill('input[name=score]', '85');
  await Promise.all([page.waitForNavigation(), page.click('form.box button[type=submit]')]);
  const status = await page.evaluate(() => document.title);
  const reviews = await page.locator('p.review').allInnerTexts();
  await shot(page, `review-${DESK_STEP}`);
  const last = reviews[reviews.length - 1] || '';
  check(DESK_STEP === 'return' ? last.includes('退回') : last.includes('通过'), `the review shows on the case page: ${last}`);
  return { missing, photos, loaded, status, last };
});
