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
//   {"expect": TEXT}                     the page shows TEXT (within the step's time)
//   {"screenshot": PATH, "width": N}     a PNG of the page at that width (phone or desktop)
//   {"landing": true}                    wait until the browser went to the relying party
//   {"authenticator": {...}}             plugs in a DevTools virtual authenticator (WebAuthn
//                                        domain), {"name": N, "transport": "internal"|"usb",
//                                        "uv": bool, "resident": bool}, in place of the one
//                                        before (a security key without UV holds no resident
//                                        keys: chromium would ask for a PIN), whose
//                                        credentials are kept under its name for its return
//   {"unplug": true}                     takes the authenticator out (its credentials kept)
//   {"absent": SELECTOR}                 the page has no such element
// The report's "authenticators" holds every authenticator of the run with its credentials
// (private keys too: throwaway), for PAGES_AUTHENTICATORS of the next run.
//   {"sign_count": N}                    every credential of it now counts from N (a clone)
//   {"capture": PATH}                    the form body of the next POST to PATH goes into the
//                                        report's "captured" (a response to replay elsewhere)
//   {"click_only": SELECTOR}             click, and do not wait for a navigation
//   {"wait_for": SELECTOR}               wait until the element is there and visible
//   {"remember": SELECTOR, "as": NAME}   keeps the element's text (a key, recovery codes)
//   {"fill": SELECTOR, "remembered": NAME, "line": N}
//                                        types line N of a text kept before
//   {"totp": NAME, "fill": [SELECTOR...]} types consecutive TOTP codes, from now on, that
//                                        Debian's oathtool makes for the base32 key kept as NAME
// Prints one JSON line: {"ok":true,"landings":[URL...],"texts":[...]} or {"ok":false,
// "failed_step":N,"error":...,"text":...} (exit 1). Nothing listens at the relying party's
// origin: its URLs are read from the browser's requests, and answered by a route.

import { execFileSync } from 'node:child_process';
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

const report = { ok: false, landings: [], texts: [], captured: [] };
let index = -1;
let page = null;
let cdp = null;           // the DevTools session of the page, for the WebAuthn domain
let authenticatorId = null;
let capturePath = null;
let pluggedIn = null;     // the name of the authenticator plugged in
// name -> {options, credentials} of the authenticators not plugged in: from an earlier run
// (PAGES_AUTHENTICATORS, as its report gave them back), or taken out in this one.
const unplugged = JSON.parse(process.env.PAGES_AUTHENTICATORS || '{}');
const remembered = {};    // name -> text kept by a "remember" step

/** Takes the authenticator out, keeping its credentials under its name. */
async function unplug() {
    if (!authenticatorId)
        return;
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    unplugged[pluggedIn].credentials = credentials;
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    authenticatorId = null;
}

/** Plugs in the authenticator `a` names: one at a time, as a person would. */
async function useAuthenticator(a) {
    if (!cdp) {
        cdp = await page.context().newCDPSession(page);
        await cdp.send('WebAuthn.enable', { enableUI: false });
    }
    await unplug();
    const name = a.name || 'default';
    const known = unplugged[name];
    const options = known ? known.options : {
        protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: a.transport || 'internal',
        hasResidentKey: a.resident !== false, hasUserVerification: a.uv !== false,
        isUserVerified: a.uv !== false, automaticPresenceSimulation: true,
    };
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options }));
    for (const credential of known ? known.credentials : [])
        await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
    unplugged[name] = { options, credentials: [] };
    pluggedIn = name;
}

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
    report.console = [];
    page.on('console', (m) => report.console.push(`${m.type()}: ${m.text()}`.slice(0, 300)));
    page.on('request', (request) => {
        if (capturePath && request.method() === 'POST' &&
            new URL(request.url()).pathname === capturePath) {
            report.captured.push(request.postData() || '');
            capturePath = null;
        }
    });
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
        } else if (s.totp) {
            const codes = execFileSync('oathtool', ['--totp', '-b', '-w', String(s.fill.length - 1),
                remembered[s.totp]], { encoding: 'utf8' }).trim().split('\n');
            for (const [i, selector] of s.fill.entries())
                await page.fill(selector, codes[i]);
        } else if (s.fill) {
            const value = s.remembered === undefined ? s.value
                : remembered[s.remembered].split('\n')[s.line || 0].trim();
            await page.fill(s.fill, value);
        } else if (s.click) {
            landingsBefore = report.landings.length;
            await Promise.all([
                page.waitForNavigation({ waitUntil: 'load' }).catch(() => {}),
                page.click(s.click),
            ]);
        } else if (s.expect) {
            // Waits a while: a page's script may still be at work (a passkey's sign-in).
            const deadline = Date.now() + STEP_TIMEOUT_MS;
            while (!(await text()).includes(s.expect)) {
                if (Date.now() > deadline)
                    throw new Error(`the page does not show ${JSON.stringify(s.expect)}`);
                await new Promise((r) => setTimeout(r, 100));
            }
        } else if (s.screenshot) {
            await page.setViewportSize({ width: s.width || 1000, height: s.height || 760 });
            await page.screenshot({ path: s.screenshot, fullPage: true });
        } else if (s.landing) {
            await waitForLanding(landingsBefore);
        } else if (s.authenticator) {
            await useAuthenticator(s.authenticator);
        } else if (s.unplug) {
            await unplug();
        } else if (s.absent) {
            if (await page.locator(s.absent).count() !== 0)
                throw new Error(`the page has ${s.absent}`);
        } else if (s.sign_count !== undefined) {
            const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
            for (const c of credentials) {
                await cdp.send('WebAuthn.removeCredential',
                    { authenticatorId, credentialId: c.credentialId });
                await cdp.send('WebAuthn.addCredential',
                    { authenticatorId, credential: { ...c, signCount: s.sign_count } });
            }
        } else if (s.capture) {
            capturePath = s.capture;
        } else if (s.click_only) {
            await page.click(s.click_only);
        } else if (s.remember) {
            remembered[s.as] = (await page.textContent(s.remember)).trim();
        } else if (s.wait_for) {
            await page.locator(s.wait_for).waitFor({ state: 'visible' });
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
    if (authenticatorId) {
        const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
            .catch(() => ({ credentials: unplugged[pluggedIn].credentials }));
        unplugged[pluggedIn].credentials = credentials;
    }
    report.authenticators = unplugged;
    await browser.close();
}
console.log(JSON.stringify(report));
process.exit(report.ok ? 0 : 1);
