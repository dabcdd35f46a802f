// Issue 22, printing: each print page of a case rendered to an A4 PDF by
// headless Chromium (the Rust test checks the text with pdftotext).
import { run, signIn, check, shot, url } from './lib.mjs';

const { DESK_USER, DESK_PASSWORD, DESK_CASE, DESK_PDF_DIR } = process.env;

await run(async (browser) => {
  const context = await browser.newContext();
  const page = await signIn(context, DESK_USER, DESK_PASSWORD);
  const written = [];
  for (const doc of ['agreement', 'intake', 'notice', 'cover']) {
    const r = await page.goto(`${url}/desk/cases/${DESK_CASE}/print/${doc}`);
    check(r.status() === 200, `${doc}: ${r.status()}`);
    await shot(page, `print-${doc}`);
    const path = `${DESK_PDF_DIR}/${doc}.pdf`;
    await page.pdf({ path, format: 'A4', printBackground: true });
    written.push(path);
  }
  return { written };
});
