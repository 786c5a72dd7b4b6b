// SPDX-License-Identifier: Apache-2.0
// A relying party of latchkey's OpenID Connect provider, for the end-to-end test
// (tests/integration/oidc_test.py): openid-client v6 does the protocol, Debian's chromium
// (driven by playwright-core) is the browser that signs in on latchkey's own pages.
//
//   node rp.mjs --issuer http://localhost:PORT --client-id ID --redirect-uri URI
//               [--post-logout-uri URI] [--public | --auth-method basic|post]
//               [--id-token-alg RS256|ES256|EdDSA] --user NAME@DOMAIN
//               [--scenario full|wrong-password|login-hint|portal|dedicated-portal|
//                           no-prompt|prompt-none|max-age-0|prompt-login|refused|
//                           client-credentials]
//               [--wrong-passwords N] [--totp-skew SECONDS] [--bypass-csp]
//
// Secrets come from the environment (RP_CLIENT_SECRET, RP_PASSWORD, RP_TOTP_KEY) or, for
// convenience, --client-secret, --password and --totp-key. Prints one JSON line on stdout:
// {"ok":true,...} and exit 0, or {"ok":false,"failed_step":...,"error":...,"detail":...} and
// exit 1 (a message on stderr too). RP_DEBUG=1 logs the browser's requests and each step's time
// on stderr.
//
// full: sign-in in the browser (with a TOTP step when RP_TOTP_KEY is set), the code grant,
// the ID token's claims and signature (openid-client, and jose against /jwks), userinfo,
// single sign-on with prompt=none, refresh rotation, introspection, revocation, refresh-token
// reuse detection, RP-initiated logout. wrong-password: a wrong password first, its message
// on the page, then a right one and the code grant.
//
// login-hint: /authorize with login_hint=USER shows the name in the field; submitted as it is,
// then the password, it ends in the code grant. portal: /login?username=USER, opened directly,
// shows the name and signs in on the page. dedicated-portal: /d/DOMAIN/login?username=USER
// shows the name without its domain, the domain beside the field, and signs in.
// no-prompt, prompt-none: a sign-in, then /authorize (without prompt, or with prompt=none)
// answers a code for the same session with no page on the way. max-age-0, prompt-login: a
// sign-in, then /authorize with max_age=0 (or prompt=login) and the session cookie shows the
// sign-in page again; the new logon's ID token has a later auth_time, and the session carries it.
// refused: --wrong-passwords wrong passwords, then the right one (when asked for): the page
// refuses with a message; the result lists each message shown ("refusals", "final") for the
// caller to check, and the browser never reaches the client. client-credentials (no browser):
// --client-id is an access key's id, RP_CLIENT_SECRET its secret: openid-client's
// client_credentials grant, jose verifies the at+jwt access token, userinfo names --user.
//
// Nothing listens at the redirect URIs: the RP reads the URLs of the browser's requests there
// (a direct navigation is answered by a canned route; the end of a redirect chain is not routed
// by playwright and just fails to connect).

import { createHash, createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.RP_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync'];
const WRONG_PASSWORD_MESSAGE = 'Authentication failed: wrong user name or password.';
const STEP_TIMEOUT_MS = 15_000;

// ---- arguments ----------------------------------------------------------------------------

const { values: opt } = parseArgs({
    options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        public: { type: 'boolean', default: false },
        'auth-method': { type: 'string' },
        'redirect-uri': { type: 'string' },
        'post-logout-uri': { type: 'string' },
        'id-token-alg': { type: 'string', default: 'RS256' },
        user: { type: 'string' },
        password: { type: 'string' },
        'totp-key': { type: 'string' },
        'totp-skew': { type: 'string', default: '0' },
        'wrong-passwords': { type: 'string', default: '0' },
        scenario: { type: 'string', default: 'full' },
        'bypass-csp': { type: 'boolean', default: false },
    },
    strict: true,
});

const cfg = {
    issuer: opt.issuer,
    clientId: opt['client-id'],
    secret: process.env.RP_CLIENT_SECRET || opt['client-secret'],
    isPublic: opt.public,
    authMethod: opt.public ? 'none' : (opt['auth-method'] || 'post'),
    redirectUri: opt['redirect-uri'],
    postLogoutUri: opt['post-logout-uri'],
    alg: opt['id-token-alg'],
    user: opt.user,
    password: process.env.RP_PASSWORD || opt.password,
    totpKey: process.env.RP_TOTP_KEY || opt['totp-key'],
    totpSkew: Number(opt['totp-skew']),
    wrongPasswords: Number(opt['wrong-passwords']),
    scenario: opt.scenario,
    bypassCsp: opt['bypass-csp'],
};

// ---- reporting ----------------------------------------------------------------------------

const passed = [];   // names of the checks that passed, in order
const result = { scenario: cfg.scenario, client_id: cfg.clientId, alg: cfg.alg };
let current = 'arguments';

class CheckFailed extends Error {
    constructor(message, detail) {
        super(message);
        this.detail = detail;
    }
}

function expect(cond, message, detail) {
    if (!cond)
        throw new CheckFailed(message, detail);
}

/** Runs one named step; a failure names the step and carries what the server answered. */
async function step(name, fn) {
    current = name;
    const start = Date.now();
    const value = await fn();
    passed.push(name);
    if (process.env.RP_DEBUG)
        console.error(`rp.mjs: ${name}: ok in ${Date.now() - start} ms`);
    return value;
}

/** What an exception says, including the OAuth error and HTTP status openid-client saw. */
function describe(e) {
    const d = { name: e?.name, message: e?.message };
    for (const k of ['code', 'error', 'error_description', 'status', 'detail'])
        if (e?.[k] !== undefined)
            d[k] = e[k];
    if (e?.cause instanceof URLSearchParams)
        d.cause = Object.fromEntries(e.cause);
    else if (e?.cause !== undefined)
        d.cause = e.cause instanceof Error ? String(e.cause) : e.cause;
    return d;
}

/** Runs `fn`, which must fail with the OAuth error `error`; returns the exception. */
async function expectOAuthError(what, error, fn) {
    let value;
    try {
        value = await fn();
    } catch (e) {
        expect(e?.error === error, `${what}: expected the error ${error}, got another failure`,
            describe(e));
        return e;
    }
    throw new CheckFailed(`${what}: expected the error ${error}, but it succeeded`,
        { answered: Object.keys(value ?? {}) });
}

// ---- TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps) --------------------------------

function base32Decode(text) {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0, value = 0;
    const out = [];
    for (const c of text.replace(/=+$/, '').toUpperCase()) {
        const v = alphabet.indexOf(c);
        if (v < 0)
            throw new Error('the TOTP key is not base32');
        value = ((value << 5) | v) & 0xffff; // only the bits not yet output matter
        bits += 5;
        if (bits >= 8) {
            out.push((value >>> (bits - 8)) & 0xff);
            bits -= 8;
        }
    }
    return Buffer.from(out);
}

function totp(key, unixSeconds, digits = 6, period = 30) {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / period)));
    const mac = createHmac('sha1', base32Decode(key)).update(counter).digest();
    const offset = mac[mac.length - 1] & 0x0f;
    return String((mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits).padStart(digits, '0');
}

// ---- the browser --------------------------------------------------------------------------

/**
 * One chromium with one context. The URLs of the browser's requests to the RP's origin (the
 * redirect and post-logout URIs) are queued for landing(); nothing is served there.
 */
async function openBrowser() {
    // chromium.launch() gives the browser a fresh temporary --user-data-dir (under $TMPDIR)
    // and deletes it on close; passing --user-data-dir in args is refused by playwright.
    const browser = await chromium.launch({
        executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000,
    });
    // --bypass-csp makes chromium ignore the pages' Content-Security-Policy: only for running
    // the rest of the flow while a CSP defect (reported without it) is being fixed.
    const context = await browser.newContext({ bypassCSP: cfg.bypassCsp });
    context.setDefaultTimeout(STEP_TIMEOUT_MS);
    if (process.env.RP_DEBUG) {
        context.on('request', (r) => console.error(`> ${r.method()} ${r.url()}`));
        context.on('response', (r) => console.error(`< ${r.status()} ${r.url()}`));
        context.on('requestfailed', (r) => console.error(`! ${r.url()} ${r.failure()?.errorText}`));
    }
    const rpOrigin = new URL(cfg.redirectUri).origin;
    const landings = [];
    // Every request the browser makes at the RP's origin is a landing. Nothing listens there:
    // a direct navigation is answered by the route below; one that ends a redirect chain is
    // not routed by playwright and fails with ERR_CONNECTION_REFUSED, which is fine, as its
    // URL is all the RP needs.
    context.on('request', (request) => {
        const url = request.url();
        // chromium may retry a refused navigation: the same URL twice is one landing
        if (new URL(url).origin === rpOrigin && landings.at(-1) !== url)
            landings.push(url);
    });
    await context.route((url) => url.origin === rpOrigin, (route) => route.fulfill({
        status: 200, contentType: 'text/html; charset=utf-8',
        body: '<!doctype html><title>relying party</title><p>back at the relying party</p>',
    }));
    // The navigations to latchkey (method and path, redirects included), for the scenarios that
    // check that no page was shown on the way back to the client.
    const issuerOrigin = new URL(cfg.issuer).origin;
    const navigations = [];
    context.on('request', (r) => {
        if (r.isNavigationRequest() && new URL(r.url()).origin === issuerOrigin)
            navigations.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    const page = await context.newPage();
    // What the browser refused: CSP violations (reported on the console) and failed navigations.
    const refused = { csp_violations: [], failed_navigations: [] };
    page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text()))
            refused.csp_violations.push(m.text());
    });
    page.on('requestfailed', (r) => {
        if (r.isNavigationRequest() && new URL(r.url()).origin !== rpOrigin)
            refused.failed_navigations.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
    });

    /**
     * The next URL the browser requested at the RP, or a failure with what the page shows: after
     * `timeoutMs`, or one second after the browser refused something (a CSP violation).
     */
    const landing = async (timeoutMs = STEP_TIMEOUT_MS) => {
        const start = Date.now();
        const seen = refused.csp_violations.length + refused.failed_navigations.length;
        let refusedAt = null;
        while (landings.length === 0) {
            const now = Date.now();
            if (refusedAt === null &&
                refused.csp_violations.length + refused.failed_navigations.length > seen)
                refusedAt = now;
            if (now - start > timeoutMs || (refusedAt !== null && now - refusedAt > 1000)) {
                const csp = refused.csp_violations.length > 0;
                throw new CheckFailed('the browser was not sent back to the relying party' +
                    (csp ? ': chromium blocked it for the Content-Security-Policy of ' +
                           'latchkey\'s page' : ''),
                    { url: page.url(), page_text: (await pageText(page)).slice(0, 600),
                      ...refused, csp_blocked: csp });
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return landings.shift();
    };
    /** Forgets earlier landings: call before the action whose landing is awaited next. */
    const expectLanding = () => {
        landings.length = 0;
    };
    /** Forgets earlier navigations to latchkey; returns the list that fills up from now on. */
    const watchNavigations = () => {
        navigations.length = 0;
        return navigations;
    };
    return { browser, page, landing, expectLanding, refused, watchNavigations,
             pendingLandings: landings };
}

/**
 * page.goto(url), once chromium has finished with the page before. A flow that ended at the RP's
 * origin (where nothing listens) leaves chromium committing its own error page a moment later;
 * a navigation started meanwhile is "interrupted by another navigation to chrome-error://...".
 * That is the previous flow's end, not this one's failure: start again, three times at most.
 * Returns the response, or null when the flow's own redirect was reported as the interruption.
 */
async function gotoPage(page, url) {
    for (let attempt = 1; ; ++attempt) {
        try {
            return await page.goto(url);
        } catch (e) {
            const to = /interrupted by another navigation to "([^"]+)"/.exec(e?.message ?? '')?.[1];
            // Racing that error page, chromium may also report this flow's own redirect (from
            // /authorize to /login on the same server) as a second navigation: the flow went
            // on, and the page ends where it went.
            if (to && !to.startsWith('chrome-error:') && URL.canParse(to) &&
                new URL(to).origin === new URL(url).origin) {
                await page.waitForLoadState('load').catch(() => {});
                return null;
            }
            if (attempt >= 3 || to === undefined || !to.startsWith('chrome-error:'))
                throw e;
            await page.waitForLoadState('load').catch(() => {});
        }
    }
}

/**
 * Navigates to `url`. A navigation that ends at the RP's origin fails (nothing listens there)
 * and is not an error here: landing() reads where the browser went.
 */
async function visit(page, url) {
    try {
        await gotoPage(page, url);
    } catch (e) {
        if (!/net::ERR_/.test(e?.message ?? ''))
            throw e;
    }
}

async function pageText(page) {
    try {
        return (await page.locator('body').innerText({ timeout: 2000 })).replace(/\s+/g, ' ');
    } catch {
        return '';
    }
}

/** Types the user name on latchkey's first page and submits it. */
async function typeUsername(page) {
    await page.locator('#username').fill(cfg.user);
    await page.locator('form button[type=submit]').click();
}

/** Answers the prompt now shown, after checking its label. */
async function answer(page, expectedLabel, value) {
    const field = page.locator('label[for=answer]', { hasText: expectedLabel });
    try {
        await field.waitFor();
    } catch {
        throw new CheckFailed(`latchkey did not ask for "${expectedLabel}"`,
            { url: page.url(), page_text: (await pageText(page)).slice(0, 600) });
    }
    await page.locator('#answer').fill(value);
    await page.locator('form button[type=submit]').click();
}

async function signIn(page) {
    await typeUsername(page);
    await answer(page, 'Password', cfg.password);
    if (cfg.totpKey) {
        const code = totp(cfg.totpKey, Date.now() / 1000 + cfg.totpSkew);
        await answer(page, 'Verification code', code);
    }
}

// ---- the relying party --------------------------------------------------------------------

async function discover() {
    const metadata = { id_token_signed_response_alg: cfg.alg };
    let auth;
    if (cfg.isPublic) {
        metadata.token_endpoint_auth_method = 'none';
        auth = client.None();
    } else {
        expect(cfg.secret, 'a confidential client needs RP_CLIENT_SECRET');
        metadata.client_secret = cfg.secret;
        auth = cfg.authMethod === 'basic' ? client.ClientSecretBasic(cfg.secret)
                                          : client.ClientSecretPost(cfg.secret);
    }
    return client.discovery(new URL(cfg.issuer), cfg.clientId, metadata, auth, {
        execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks],
    });
}

/** A fresh authorization request: its URL and the values the response is checked against. */
async function authorizationRequest(config, extra = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const checks = {
        pkceCodeVerifier: verifier,
        expectedState: client.randomState(),
        expectedNonce: client.randomNonce(),
        idTokenExpected: true,
    };
    const url = client.buildAuthorizationUrl(config, {
        redirect_uri: cfg.redirectUri,
        scope: 'openid profile email offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: checks.expectedState,
        nonce: checks.expectedNonce,
        ...extra,
    });
    return { url, checks };
}

function atHash(accessToken, alg) {
    const digest = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken).digest();
    return digest.subarray(0, digest.length / 2).toString('base64url');
}

function checkIdToken(claims, { nonce, amr }) {
    const now = Math.floor(Date.now() / 1000);
    expect(claims.iss === cfg.issuer, 'iss is the issuer', claims);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    expect(aud.includes(cfg.clientId), 'aud names the client', claims);
    if (nonce !== undefined)
        expect(claims.nonce === nonce, 'nonce is the one sent', claims);
    expect(Array.isArray(claims.amr), 'amr is an array', claims);
    for (const m of amr)
        expect(claims.amr.includes(m), `amr includes ${m}`, claims);
    if (!amr.includes('otp'))
        expect(!claims.amr.includes('otp'), 'amr has no otp without a code', claims);
    expect(typeof claims.sid === 'string' && claims.sid.length >= 16, 'sid is set', claims);
    expect(Number.isInteger(claims.auth_time) && claims.auth_time <= now + 5 &&
           claims.auth_time >= now - 300, 'auth_time is the recent sign-in', claims);
    expect(typeof claims.sub === 'string' && claims.sub.length > 0, 'sub is set', claims);
}

async function main() {
    for (const k of ['issuer', 'clientId', 'redirectUri', 'user', 'password'])
        expect(cfg[k] || (k === 'password' && cfg.scenario === 'client-credentials'),
            `missing argument: ${k}`);
    expect(['full', 'wrong-password', 'client-credentials'].includes(cfg.scenario) ||
           MORE_SCENARIOS[cfg.scenario], `unknown scenario ${cfg.scenario}`);
    expect(Number.isInteger(cfg.wrongPasswords) && cfg.wrongPasswords >= 0,
        '--wrong-passwords takes a count');
    expect(totp('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59) === '287082', 'RFC 6238 test vector');
    const expectedAmr = cfg.totpKey ? ['pwd', 'otp'] : ['pwd'];

    const config = await step('discovery', discover);
    const server = config.serverMetadata();
    expect(server.issuer === cfg.issuer, 'discovery names the issuer', server);
    expect(server.code_challenge_methods_supported?.includes('S256'), 'S256 is supported', server);

    if (cfg.scenario === 'client-credentials')
        return clientCredentials(config);

    const b = await step('launch chromium', openBrowser);
    const { browser, page, landing, expectLanding, refused } = b;
    result.bypass_csp = cfg.bypassCsp;
    try {
        if (MORE_SCENARIOS[cfg.scenario])
            return await MORE_SCENARIOS[cfg.scenario](config, b, expectedAmr);
        // ---- sign-in ----------------------------------------------------------------------
        const first = await authorizationRequest(config);
        await step('authorization request reaches the sign-in page', async () => {
            await gotoPage(page, first.url.href);
            expect(new URL(page.url()).pathname === '/login', 'latchkey shows /login',
                { url: page.url() });
            await page.locator('#username').waitFor();
        });
        if (cfg.scenario === 'wrong-password') {
            await step('a wrong password is refused with a message on the page', async () => {
                await typeUsername(page);
                const reply = page.waitForResponse((r) => r.request().method() === 'POST' &&
                    new URL(r.url()).pathname === '/login');
                await answer(page, 'Password', `${cfg.password}-wrong`);
                const response = await reply;
                const alert = page.locator('p.error[role=alert]');
                await alert.waitFor();
                const text = (await alert.innerText()).trim();
                expect(text === WRONG_PASSWORD_MESSAGE, 'the page says the sign-in failed',
                    { shown: text, status: response.status() });
                expect(response.status() === 401, 'the page is answered with 401',
                    { status: response.status() });
                expect(await page.locator('#username').inputValue() === cfg.user,
                    'the user name is kept for another try');
                result.wrong_password_message = text;
            });
        }
        const back = await step('sign-in in chromium returns to the redirect URI', async () => {
            expectLanding();
            await signIn(page);
            const url = new URL(await landing());
            expect(url.origin + url.pathname === cfg.redirectUri, 'sent to the redirect URI',
                { url: url.href });
            expect(url.searchParams.get('iss') === cfg.issuer, 'the response names the issuer',
                { url: url.href });
            return url;
        });

        // ---- tokens -----------------------------------------------------------------------
        const tokens = await step('authorization code grant (PKCE S256, state, nonce)', () =>
            client.authorizationCodeGrant(config, back, first.checks));
        const claims = tokens.claims();
        result.id_token_claims = claims;
        await step('ID token claims', async () => {
            expect(decodeProtectedHeader(tokens.id_token).alg === cfg.alg,
                `the ID token is signed with ${cfg.alg}`, decodeProtectedHeader(tokens.id_token));
            checkIdToken(claims, { nonce: first.checks.expectedNonce, amr: expectedAmr });
            expect(claims.at_hash === atHash(tokens.access_token, cfg.alg),
                'at_hash matches the access token', claims);
            expect(tokens.token_type.toLowerCase() === 'bearer', 'token_type Bearer', tokens);
            expect(typeof tokens.refresh_token === 'string', 'offline_access gave a refresh token');
        });
        const jwks = createRemoteJWKSet(new URL(`${cfg.issuer}/jwks`));
        await step('jose verifies the ID token against the JWKS', async () => {
            const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, {
                issuer: cfg.issuer, audience: cfg.clientId, algorithms: [cfg.alg],
            });
            expect(payload.sub === claims.sub && protectedHeader.kid, 'same subject, a kid',
                { payload, protectedHeader });
        });
        if (cfg.scenario === 'wrong-password')
            return; // the retry after the refusal signed in; the rest is the full scenario's
        await step('jose verifies the access token (at+jwt) against the JWKS', async () => {
            const { payload } = await jwtVerify(tokens.access_token, jwks, {
                issuer: cfg.issuer, typ: 'at+jwt', algorithms: ['RS256'],
            });
            expect(payload.client_id === cfg.clientId && payload.sub === claims.sub,
                'the access token is for this client and user', payload);
        });
        await step('userinfo', async () => {
            const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
            expect(info.sub === claims.sub, 'userinfo sub', info);
            expect(info.preferred_username === cfg.user, 'preferred_username is the logon name',
                info);
            result.userinfo = info;
        });

        // ---- single sign-on: the session cookie answers a second request at once ---------
        await step('prompt=none with the session returns a code for the same session', async () => {
            const again = await authorizationRequest(config, { prompt: 'none' });
            expectLanding();
            await visit(page, again.url.href);
            const silent = await client.authorizationCodeGrant(config, new URL(await landing()),
                again.checks);
            const c = silent.claims();
            expect(c.sid === claims.sid && c.auth_time === claims.auth_time && c.sub === claims.sub,
                'same sid, auth_time and sub', { first: claims, silent: c });
        });

        // ---- refresh, introspection, revocation --------------------------------------------
        const refreshed = await step('refresh token grant rotates the refresh token', async () => {
            const r = await client.refreshTokenGrant(config, tokens.refresh_token);
            expect(typeof r.refresh_token === 'string' && r.refresh_token !== tokens.refresh_token,
                'a new refresh token');
            expect(r.access_token !== tokens.access_token, 'a new access token');
            if (r.id_token) {
                const c = r.claims();
                expect(c.iss === claims.iss && c.sub === claims.sub && c.sid === claims.sid &&
                       c.auth_time === claims.auth_time, 'the refreshed ID token keeps iss, sub, ' +
                       'sid and auth_time (OIDC Core 12.2)', { first: claims, refreshed: c });
            }
            return r;
        });
        if (!cfg.isPublic) {
            await step('introspection: the tokens are active, the rotated one is not', async () => {
                const at = await client.tokenIntrospection(config, refreshed.access_token);
                expect(at.active === true && at.client_id === cfg.clientId && at.sub === claims.sub,
                    'the access token is active', at);
                const rt = await client.tokenIntrospection(config, refreshed.refresh_token);
                expect(rt.active === true && rt.client_id === cfg.clientId,
                    'the refresh token is active', rt);
                const old = await client.tokenIntrospection(config, tokens.refresh_token);
                expect(old.active === false, 'the rotated refresh token is inactive', old);
            });
        }
        if (cfg.isPublic) {
            await step('introspection refuses a public client (401)', async () => {
                let e;
                try {
                    await client.tokenIntrospection(config, refreshed.access_token);
                } catch (err) {
                    e = err;
                }
                expect(e && e.status === 401, 'introspection is for confidential clients',
                    e ? describe(e) : 'introspection answered');
            });
        }
        // A dead access token: inactive at introspection (confidential clients) and 401 at
        // userinfo.
        const expectAccessTokenDead = async (token, after) => {
            if (!cfg.isPublic) {
                const at = await client.tokenIntrospection(config, token);
                expect(at.active === false, `introspection says inactive ${after}`, at);
            }
            let e;
            try {
                await client.fetchUserInfo(config, token, claims.sub);
            } catch (err) {
                e = err;
            }
            expect(e && e.status === 401, `userinfo refuses the access token ${after} (401)`,
                e ? describe(e) : 'userinfo answered');
        };
        await step('revocation of the access token', async () => {
            await client.tokenRevocation(config, refreshed.access_token);
            await expectAccessTokenDead(refreshed.access_token, 'after revocation');
        });
        await step('reuse of the rotated refresh token fails (refresh_grace_s = 0)', () =>
            expectOAuthError('reusing the first refresh token', 'invalid_grant',
                () => client.refreshTokenGrant(config, tokens.refresh_token)));
        await step('the second refresh token fails too: its family is revoked', () =>
            expectOAuthError('the rotated-to refresh token after a reuse', 'invalid_grant',
                () => client.refreshTokenGrant(config, refreshed.refresh_token)));
        await step('the access token of the revoked family is revoked with it', () =>
            expectAccessTokenDead(tokens.access_token, 'of the family after the reuse'));

        // ---- RP-initiated logout -----------------------------------------------------------
        if (cfg.postLogoutUri) {
            await step('RP-initiated logout returns to the post-logout URI with the state',
                async () => {
                    const state = client.randomState();
                    const url = client.buildEndSessionUrl(config, {
                        id_token_hint: tokens.id_token,
                        post_logout_redirect_uri: cfg.postLogoutUri,
                        state,
                    });
                    expect(url.href.startsWith(`${cfg.issuer}/logout?`), 'the end_session_endpoint',
                        { url: url.href });
                    expectLanding();
                    await visit(page, url.href);
                    const bye = new URL(await landing());
                    expect(bye.origin + bye.pathname === cfg.postLogoutUri, 'the post-logout URI',
                        { url: bye.href });
                    expect(bye.searchParams.get('state') === state, 'the same state',
                        { url: bye.href, state });
                });
            await step('after logout prompt=none answers login_required', async () => {
                const again = await authorizationRequest(config, { prompt: 'none' });
                expectLanding();
                await visit(page, again.url.href);
                const url = new URL(await landing());
                expect(url.searchParams.get('error') === 'login_required' &&
                       url.searchParams.get('state') === again.checks.expectedState,
                    'the session has ended', { url: url.href });
            });
        }
    } finally {
        result.browser_refused = refused;
        await browser.close();
    }
}

// ---- more scenarios -----------------------------------------------------------------------

const POST_LOGIN = (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login';

function userDomain() {
    return cfg.user.slice(cfg.user.lastIndexOf('@') + 1);
}

function userLocalPart() {
    return cfg.user.slice(0, cfg.user.lastIndexOf('@'));
}

/** Runs `action` (which submits a form on latchkey's page); waits for the answer to POST
 * /login and the new page's load; returns the answer. */
async function submitted(page, action) {
    const reply = page.waitForResponse(POST_LOGIN);
    const loaded = page.waitForEvent('load');
    await action();
    const response = await reply;
    await loaded;
    return response;
}

/** The text of the refusal shown on the page, or a failure with what the page shows. */
async function alertText(page) {
    const alert = page.locator('p.error[role=alert]');
    if (await alert.count() === 0)
        throw new CheckFailed('the page shows no refusal message',
            { url: page.url(), page_text: (await pageText(page)).slice(0, 600) });
    return (await alert.innerText()).trim();
}

/** The password (and the TOTP code) after the user-name page was submitted. */
async function answerSecrets(page) {
    await answer(page, 'Password', cfg.password);
    if (cfg.totpKey) {
        const code = totp(cfg.totpKey, Date.now() / 1000 + cfg.totpSkew);
        await answer(page, 'Verification code', code);
    }
}

/** The first page shows the name given, in the field; submits it as it is. */
async function expectPrefilled(page, value) {
    const field = page.locator('#username');
    await field.waitFor();
    const shown = await field.inputValue();
    result.prefilled = shown;
    expect(shown === value, 'the user name field is prefilled', { shown, expected: value });
}

/** The page a portal opened directly shows once signed in; checks its text and the cookie. */
async function expectSignedInOnThePortal(page) {
    const text = `You are signed in as ${cfg.user}.`;
    try {
        await page.getByText(text, { exact: true }).waitFor();
    } catch {
        throw new CheckFailed(`the page does not say "${text}"`,
            { url: page.url(), page_text: (await pageText(page)).slice(0, 600) });
    }
    const cookies = await page.context().cookies(cfg.issuer);
    expect(cookies.length > 0, 'latchkey set its session cookie', { cookies: cookies.length });
    result.signed_in_text = text;
}

/** A sign-in through the pages, from /authorize with `extra` to the code grant. */
async function signInForTokens(config, b, extra, expectedAmr, label, moreChecks = {}) {
    const req = await authorizationRequest(config, extra);
    await step(`${label}: the authorization request shows the sign-in page`, async () => {
        b.expectLanding();
        await gotoPage(b.page, req.url.href);
        expect(new URL(b.page.url()).pathname === '/login', 'latchkey shows /login',
            { url: b.page.url() });
        await b.page.locator('#username').waitFor();
        expect(b.pendingLandings.length === 0, 'no code was sent to the client before the logon',
            { landings: [...b.pendingLandings] });
    });
    const back = await step(`${label}: the logon returns to the redirect URI`, async () => {
        b.expectLanding();
        await signIn(b.page);
        const url = new URL(await b.landing());
        expect(url.origin + url.pathname === cfg.redirectUri && url.searchParams.get('code'),
            'a code at the redirect URI', { url: url.href });
        return url;
    });
    const tokens = await step(`${label}: authorization code grant`, () =>
        client.authorizationCodeGrant(config, back, { ...req.checks, ...moreChecks }));
    const claims = tokens.claims();
    await step(`${label}: ID token claims`, () =>
        checkIdToken(claims, { nonce: req.checks.expectedNonce, amr: expectedAmr }));
    return claims;
}

/**
 * /authorize with `extra` and the browser's session cookie: a code comes back with no page of
 * latchkey's on the way (the only navigation to latchkey is the GET /authorize itself).
 */
async function silentSignIn(config, b, extra) {
    const req = await authorizationRequest(config, extra);
    b.expectLanding();
    const navigations = b.watchNavigations();
    await visit(b.page, req.url.href);
    const url = new URL(await b.landing());
    const seen = [...navigations];
    expect(url.origin + url.pathname === cfg.redirectUri && url.searchParams.get('code') &&
           !url.searchParams.get('error'), 'a code at the redirect URI', { url: url.href, seen });
    expect(url.searchParams.get('state') === req.checks.expectedState &&
           url.searchParams.get('iss') === cfg.issuer, 'the state and the issuer',
           { url: url.href });
    expect(seen.length === 1 && seen[0] === 'GET /authorize',
        'no sign-in page on the way: the browser only asked for /authorize', { seen });
    const tokens = await client.authorizationCodeGrant(config, url, req.checks);
    return tokens.claims();
}

/** Waits until the clock is past `unixSeconds`: auth_time counts whole seconds. */
async function afterSecond(unixSeconds) {
    while (Date.now() / 1000 < unixSeconds + 1.05)
        await new Promise((resolve) => setTimeout(resolve, 50));
}

const MORE_SCENARIOS = {
    'login-hint': async (config, b, expectedAmr) => {
        const req = await authorizationRequest(config, { login_hint: cfg.user });
        await step('login_hint prefills the user name on the sign-in page', async () => {
            await gotoPage(b.page, req.url.href);
            expect(new URL(b.page.url()).pathname === '/login', 'latchkey shows /login',
                { url: b.page.url() });
            await expectPrefilled(b.page, cfg.user);
        });
        const back = await step('the prefilled name as it is, then the password, return to the ' +
                                'redirect URI', async () => {
            b.expectLanding();
            await b.page.locator('form button[type=submit]').click();
            await answerSecrets(b.page);
            return new URL(await b.landing());
        });
        const tokens = await step('authorization code grant (PKCE S256, state, nonce)', () =>
            client.authorizationCodeGrant(config, back, req.checks));
        const claims = tokens.claims();
        result.id_token_claims = claims;
        await step('ID token claims', () =>
            checkIdToken(claims, { nonce: req.checks.expectedNonce, amr: expectedAmr }));
        await step('userinfo names the hinted user', async () => {
            const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
            expect(info.preferred_username === cfg.user, 'preferred_username', info);
            result.userinfo = info;
        });
    },

    portal: async (config, b) => {
        await step('/login?username= prefills the user name', async () => {
            await gotoPage(b.page, `${cfg.issuer}/login?username=${encodeURIComponent(cfg.user)}`);
            await expectPrefilled(b.page, cfg.user);
            expect(await b.page.locator('.domain').count() === 0, 'no fixed domain here');
        });
        await step('the prefilled name as it is, then the password, sign in on the portal',
            async () => {
                await b.page.locator('form button[type=submit]').click();
                await answerSecrets(b.page);
                await expectSignedInOnThePortal(b.page);
            });
    },

    'dedicated-portal': async (config, b) => {
        await step('/d/DOMAIN/login?username=NAME@DOMAIN prefills the name without its domain',
            async () => {
                await gotoPage(b.page, `${cfg.issuer}/d/${encodeURIComponent(userDomain())}/login` +
                                  `?username=${encodeURIComponent(cfg.user)}`);
                await expectPrefilled(b.page, userLocalPart());
                const fixed = (await b.page.locator('.domain span').innerText()).trim();
                result.fixed_domain = fixed;
                expect(fixed === `@${userDomain()}`, 'the domain beside the field', { fixed });
            });
        await step('the prefilled name as it is, then the password, sign in on the portal',
            async () => {
                await b.page.locator('form button[type=submit]').click();
                await answerSecrets(b.page);
                await expectSignedInOnThePortal(b.page);
            });
    },

    'no-prompt': async (config, b, expectedAmr) => {
        const first = await signInForTokens(config, b, {}, expectedAmr, 'first sign-in');
        result.id_token_claims = first;
        await step('with the live session and no prompt, /authorize answers a code without ' +
                   'any form', async () => {
            const c = await silentSignIn(config, b, {});
            result.silent_claims = c;
            expect(c.sid === first.sid && c.auth_time === first.auth_time && c.sub === first.sub,
                'same sid, auth_time and sub', { first, silent: c });
        });
    },

    'prompt-none': async (config, b, expectedAmr) => {
        const first = await signInForTokens(config, b, {}, expectedAmr, 'first sign-in');
        result.id_token_claims = first;
        await step('with the live session, prompt=none returns a code without UI', async () => {
            const c = await silentSignIn(config, b, { prompt: 'none' });
            result.silent_claims = c;
            expect(c.sid === first.sid && c.auth_time === first.auth_time && c.sub === first.sub,
                'same sid, auth_time and sub', { first, silent: c });
        });
    },

    'max-age-0': (config, b, expectedAmr) => reauthenticate(config, b, expectedAmr,
        { max_age: '0' }, 'max_age=0'),
    'prompt-login': (config, b, expectedAmr) => reauthenticate(config, b, expectedAmr,
        { prompt: 'login' }, 'prompt=login'),

    refused: async (config, b) => {
        const req = await authorizationRequest(config);
        await step('authorization request reaches the sign-in page', async () => {
            b.expectLanding();
            await gotoPage(b.page, req.url.href);
            expect(new URL(b.page.url()).pathname === '/login', 'latchkey shows /login',
                { url: b.page.url() });
            await b.page.locator('#username').waitFor();
        });
        result.refusals = [];
        for (let i = 1; i <= cfg.wrongPasswords; i++) {
            await step(`wrong password ${i} is refused with a message on the page`, async () => {
                await submitted(b.page, () => typeUsername(b.page));
                const response = await submitted(b.page,
                    () => answer(b.page, 'Password', `${cfg.password}-wrong`));
                const message = await alertText(b.page);
                result.refusals.push({ message, status: response.status() });
                expect(response.status() === 401, 'the page is answered with 401',
                    { status: response.status(), message });
            });
        }
        await step('the sign-in is refused with a message on the page', async () => {
            let response = await submitted(b.page, () => typeUsername(b.page));
            const askedPassword = await b.page.locator('label[for=answer]').count() > 0;
            if (askedPassword)
                response = await submitted(b.page,
                    () => answer(b.page, 'Password', cfg.password));
            const message = await alertText(b.page);
            result.final = { message, status: response.status(), asked_password: askedPassword,
                             username_kept: await b.page.locator('#username').inputValue() };
        });
        await step('the browser is not sent to the client', async () => {
            await new Promise((resolve) => setTimeout(resolve, 300));
            expect(b.pendingLandings.length === 0 && new URL(b.page.url()).pathname === '/login',
                'the browser stays on the sign-in page',
                { url: b.page.url(), landings: [...b.pendingLandings] });
        });
    },
};

/** A sign-in; then `force` on /authorize with the session cookie asks for a new logon. */
async function reauthenticate(config, b, expectedAmr, force, label) {
    const first = await signInForTokens(config, b, {}, expectedAmr, 'first sign-in');
    result.first_claims = first;
    await step('the session is live: without a prompt a code comes back at once', async () => {
        const c = await silentSignIn(config, b, {});
        expect(c.sid === first.sid && c.auth_time === first.auth_time, 'the same session',
            { first, silent: c });
    });
    // auth_time counts whole seconds: the new logon must be in a later one to tell it apart
    await afterSecond(first.auth_time);
    const cookies = await b.page.context().cookies(cfg.issuer);
    expect(cookies.length > 0, 'the browser holds latchkey\'s session cookie');
    // with max_age, openid-client also wants auth_time in the ID token, and recent enough
    const checks = force.max_age === '0' ? { maxAge: 0 } : {};
    const second = await signInForTokens(config, b, force, expectedAmr,
        `${label} with the session cookie`, checks);
    result.id_token_claims = second;
    await step(`the ID token after ${label} has a newer auth_time`, async () => {
        expect(Number.isInteger(second.auth_time) && second.auth_time > first.auth_time,
            'auth_time is the new logon\'s', { first: first.auth_time, second: second.auth_time });
        expect(second.sub === first.sub, 'the same user', { first, second });
    });
    await step('the session now carries the new logon', async () => {
        const c = await silentSignIn(config, b, {});
        expect(c.auth_time === second.auth_time, 'a later silent request has the new auth_time',
            { second, silent: c });
    });
}

/** An access key at the token endpoint, with openid-client; jose checks the token. */
async function clientCredentials(config) {
    const tokens = await step('client_credentials grant with the access key', () =>
        client.clientCredentialsGrant(config, { scope: 'profile' }));
    await step('the answer is a bearer access token and nothing else', () => {
        expect(tokens.token_type?.toLowerCase() === 'bearer', 'token_type Bearer', tokens);
        expect(!tokens.id_token && !tokens.refresh_token, 'no ID token, no refresh token',
            Object.keys(tokens));
        expect(tokens.scope === 'profile', 'the scope asked for', { scope: tokens.scope });
    });
    const jwks = createRemoteJWKSet(new URL(`${cfg.issuer}/jwks`));
    const verified = await step('jose verifies the access token (at+jwt) against the JWKS', () =>
        jwtVerify(tokens.access_token, jwks, {
            issuer: cfg.issuer, typ: 'at+jwt', algorithms: ['RS256'],
        }));
    result.access_token_claims = verified.payload;
    result.access_token_header = verified.protectedHeader;
    expect(verified.payload.client_id === cfg.clientId, 'client_id is the key id',
        verified.payload);
    await step('userinfo with the access token names the key\'s user', async () => {
        const info = await client.fetchUserInfo(config, tokens.access_token,
            verified.payload.sub);
        expect(info.preferred_username === cfg.user, 'preferred_username', info);
        result.userinfo = info;
    });
}

let exitCode = 0;
try {
    await main();
    console.log(JSON.stringify({ ok: true, ...result, passed }));
} catch (e) {
    const detail = e instanceof CheckFailed ? e.detail : describe(e);
    console.log(JSON.stringify({ ok: false, ...result, failed_step: current, error: e?.message,
        detail, passed }));
    console.error(`rp.mjs: ${cfg.scenario} (${cfg.clientId}, ${cfg.alg}): step "${current}" ` +
        `failed: ${e?.message}\n${JSON.stringify(detail, null, 2)}`);
    exitCode = 1;
}
// Now, not when fetch's idle keep-alive connections time out (stdout to a pipe is synchronous).
process.exit(exitCode);
