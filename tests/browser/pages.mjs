// SPDX-License-Identifier: Apache-2.0
// A scripted browser for latchkey's sign-in pages: Debian's chromium, driven by playwright-core,
// runs a list of steps and reports what it saw. tests/integration/oidc_pages_test.py uses it for
// the pages that need a person's clicks (forced password change, consent) and for the
// screenshots in docs/oidc.md.
//
//   PAGES_STEPS='[...]' node pages.mjs --rp-origin http://localhost:PORT
//
// Steps (a JSON array in PAGES_STEPS, so that passwords stay out of the process list):
//   {"goto": URL}                        open a page
//   {"fill": SELECTOR, "value": TEXT}    type into an input
//   {"click": SELECTOR}                  click, and wait for the navigation it starts
//   {"expect": TEXT}                     the page shows TEXT
//   {"screenshot": PATH, "width": N}     a PNG of the page at that width (phone or desktop)
//   {"landing": true}                    wait until the browser went to the relying party
// Prints one JSON line: {"ok":true,"landings":[URL...],"texts":[...]} or {"ok":false,
// "failed_step":N,"error":...,"text":...} (exit 1). Nothing listens at the relying party's
// origin: its URLs are read from the browser's requests, and answered by a route.

import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.RP_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync'];
const STEP_TIMEOUT_MS = 15_000;

const { values: opt } = parseArgs({
    options: { 'rp-origin': { type: 'string' } },
    strict: true,
});
const steps = JSON.parse(process.env.PAGES_STEPS || '[]');
const rpOrigin = opt['rp-origin'];

const report = { ok: false, landings: [], texts: [] };
let index = -1;
let page = null;

async function text() {
    return page ? (await page.textContent('body').catch(() => '')) || '' : '';
}

async function waitForLanding(seen) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (report.landings.length <= seen) {
        if (Date.now() > deadline)
            throw new Error('the browser did not get back to the relying party');
        await new Promise((r) => setTimeout(r, 50));
    }
}

const browser = await chromium.launch({
    executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000,
});
try {
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    context.on('request', (request) => {
        const url = request.url();
        if (rpOrigin && new URL(url).origin === rpOrigin && report.landings.at(-1) !== url)
            report.landings.push(url);
    });
    if (rpOrigin)
        await context.route((url) => url.origin === rpOrigin, (route) => route.fulfill({
            status: 200, contentType: 'text/html; charset=utf-8',
            body: '<!doctype html><title>relying party</title><p>back at the relying party</p>',
        }));
    page = await context.newPage();
    let landingsBefore = 0;
    for (index = 0; index < steps.length; ++index) {
        const s = steps[index];
        if (s.goto) {
            landingsBefore = report.landings.length;
            await page.goto(s.goto).catch((e) => {
                // A redirect chain that ends at the relying party fails to connect: fine.
                if (report.landings.length === landingsBefore)
                    throw e;
            });
        } else if (s.fill) {
            await page.fill(s.fill, s.value);
        } else if (s.click) {
            landingsBefore = report.landings.length;
            await Promise.all([
                page.waitForNavigation({ waitUntil: 'load' }).catch(() => {}),
                page.click(s.click),
            ]);
        } else if (s.expect) {
            const t = await text();
            if (!t.includes(s.expect))
                throw new Error(`the page does not show ${JSON.stringify(s.expect)}`);
        } else if (s.screenshot) {
            await page.setViewportSize({ width: s.width || 1000, height: s.height || 760 });
            await page.screenshot({ path: s.screenshot, fullPage: true });
        } else if (s.landing) {
            await waitForLanding(landingsBefore);
        } else {
            throw new Error(`unknown step ${JSON.stringify(s)}`);
        }
        report.texts.push((await text()).replace(/\s+/g, ' ').trim().slice(0, 400));
    }
    report.ok = true;
} catch (e) {
    report.failed_step = index;
    report.error = String(e?.message || e);
    report.text = (await text()).replace(/\s+/g, ' ').trim().slice(0, 1000);
} finally {
    await browser.close();
}
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
