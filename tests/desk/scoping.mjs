// Issue 22, browser test 3: a village secretary signs in and cannot reach
// another village's case: the same answer as for a case that does not exist.
import { run, signIn, check, shot, url } from './lib.mjs';

const { DESK_USER, DESK_PASSWORD, DESK_OWN, DESK_OWN_NUMBER, DESK_OTHER, DESK_OTHER_NUMBER, DESK_NONE } = process.env;

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await signIn(context, DESK_USER, DESK_PASSWORD);
  const own = await page.goto(`${url}/desk/cases/${DESK_OWN}`);
  check(own.status() === 200, `own village's case: ${own.status()}`);
  check((await page.textContent('h1')).includes(DESK_OWN_NUMBER), 'own case shown');
  const other = await page.goto(`${url}/desk/cases/${DESK_OTHER}`);
  const otherText = await page.textContent('main');
  await shot(page, 'scoping-other-village');
  const none = await page.goto(`${url}/desk/cases/${DESK_NONE}`);
  const noneText = await page.textContent('main');
  check(other.status() === 404 && none.status() === 404, `statuses ${other.status()} / ${none.status()}`);
  check(otherText === noneText, 'the same page for another village\'s case and for none');
  check(!(await page.content()).includes(DESK_OTHER_NUMBER), 'nothing of the other case shown');
  // search: the other village's case number finds nothing; the own one is found
  await page.goto(`${url}/desk/cases?q=${encodeURIComponent(DESK_OTHER_NUMBER)}`);
  const hitsOther = await page.locator('table.cases tr').count() - 1;
  await page.goto(`${url}/desk/cases?q=${encodeURIComponent(DESK_OWN_NUMBER)}`);
  const hitsOwn = await page.locator('table.cases tr').count() - 1;
  await shot(page, 'scoping-search');
  check(hitsOther === 0 && hitsOwn === 1, `search hits other ${hitsOther}, own ${hitsOwn}`);
  // the review queue is the judicial office's: a village secretary finds none
  const queue = await page.goto(`${url}/desk/review`);
  check(queue.status() === 404, `review queue: ${queue.status()}`);
  return { other: other.status(), none: none.status(), hitsOther, hitsOwn };
});
