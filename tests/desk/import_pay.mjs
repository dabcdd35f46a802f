// Issue 22, browser test 2: the county imports a workbook with three bad rows
// (each shown by sheet, row and column; nothing written), imports the fixed
// one, then pays a batch with a payment reference and downloads the ledger.
import { run, signIn, check, shot, url } from './lib.mjs';

const { DESK_USER, DESK_PASSWORD, DESK_BAD, DESK_GOOD, DESK_CASE_NUMBER, DESK_XLSX } = process.env;

async function submit(page, file, dryRun) {
  await page.goto(`${url}/desk/import`);
  await page.setInputFiles('input[name=file]', file);
  if (!dryRun) await page.uncheck('input[name=dry_run]');
  await Promise.all([page.waitForNavigation(), page.click('form.box button[type=submit]')]);
  const rows = await page.$$eval('table.problems tr', (trs) => trs.slice(1).map((tr) => [...tr.children].map((td) => td.textContent)));
  return { rows, verdict: await page.textContent('main p') };
}

await run(async (browser) => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await signIn(context, DESK_USER, DESK_PASSWORD);
  const dry = await submit(page, DESK_BAD, true);
  await shot(page, 'import-dry-run-problems');
  check(dry.rows.length === 3, `three problems: ${JSON.stringify(dry.rows)}`);
  const real = await submit(page, DESK_BAD, false);
  check(real.rows.length === 3 && real.verdict.includes('什么都没有写入'), `a bad file writes nothing: ${real.verdict}`);
  const goodDry = await submit(page, DESK_GOOD, true);
  check(goodDry.rows.length === 0, `the fixed file checks clean: ${JSON.stringify(goodDry.rows)}`);
  const good = await submit(page, DESK_GOOD, false);
  await shot(page, 'import-written');
  check(good.verdict.includes('已导入'), `imported: ${good.verdict}`);

  // pay: tick the approved case's subsidy, make a batch, mark it paid
  await page.goto(`${url}/desk/subsidies`);
  const row = page.locator('table.ledger tr', { hasText: DESK_CASE_NUMBER });
  await row.locator('input[type=checkbox]').check();
  await Promise.all([page.waitForNavigation(), page.click('text=把勾选的已批准补贴建成支付批次')]);
  check((await page.textContent('div.batch')).includes('待支付'), 'a batch awaiting payment');
  await page.fill('div.batch input[name=payment_ref]', 'NX2026-0042');
  await Promise.all([page.waitForNavigation(), page.click('text=登记已支付')]);
  const batch = await page.textContent('div.batch');
  check(batch.includes('已支付') && batch.includes('NX2026-0042'), `paid: ${batch}`);
  await shot(page, 'ledger-paid');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Excel (xlsx)')]);
  await download.saveAs(DESK_XLSX);
  return { problems: dry.rows, batch };
});
