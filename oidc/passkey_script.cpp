// SPDX-License-Identifier: Apache-2.0
// /static/passkey.js: the only script of latchkey's pages. It calls the browser's WebAuthn API
// with the options the page carries and hands the answer back: on the sign-in pages by posting
// the page's form (the assertion's parts, base64url, in fields of their own), on the account
// page by POSTing the new credential as JSON. It knows nothing of the checks, which are the
// daemon's; a page without it still signs in with a password.
#include "oidc/pages.hpp"

namespace latchkey::oidc::pages {

std::string_view passkey_script()
{
    return R"js('use strict';
(() => {
  const fromB64u = (s) => {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    const out = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out.buffer;
  };
  const toB64u = (buf) => {
    let s = '';
    for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64u(c.id) }));
  const requestOptions = (o) => ({ ...o, challenge: fromB64u(o.challenge),
                                   allowCredentials: withIds(o.allowCredentials) });
  const creationOptions = (o) => ({ ...o, challenge: fromB64u(o.challenge),
                                    user: { ...o.user, id: fromB64u(o.user.id) },
                                    excludeCredentials: withIds(o.excludeCredentials) });
  const supported = () => !!(window.PublicKeyCredential && navigator.credentials);
  const show = (el, text) => { el.textContent = text; el.hidden = !text; };
  const explain = (e) => {
    switch (e && e.name) {
      case 'NotAllowedError': return 'The passkey was not used: the request was cancelled or timed out.';
      case 'InvalidStateError': return 'This authenticator already holds a passkey for your account.';
      case 'SecurityError': return 'Passkeys do not work at this address.';
      case 'NotSupportedError': return 'This browser or authenticator does not support these passkeys.';
      default: return (e && e.message) || 'The passkey could not be used.';
    }
  };

  // The sign-in pages: an assertion, posted with the page's form.
  const form = document.getElementById('passkey-form');
  if (form && supported()) {
    const options = JSON.parse(form.dataset.options);
    const button = document.getElementById('passkey-button');
    const error = document.getElementById('passkey-error');
    let inFlight = null;
    const signIn = async (mediation) => {
      if (inFlight) inFlight.abort();
      const controller = new AbortController();
      inFlight = controller;
      const request = { publicKey: requestOptions(options), signal: controller.signal };
      if (mediation) request.mediation = mediation;
      const c = await navigator.credentials.get(request);
      if (!c) return;
      const f = form.elements;
      f.pk_id.value = toB64u(c.rawId);
      f.pk_client_data.value = toB64u(c.response.clientDataJSON);
      f.pk_authenticator_data.value = toB64u(c.response.authenticatorData);
      f.pk_signature.value = toB64u(c.response.signature);
      f.pk_user_handle.value = c.response.userHandle ? toB64u(c.response.userHandle) : '';
      form.submit();
    };
    button.hidden = false;
    button.addEventListener('click', () => {
      show(error, '');
      signIn(null).catch((e) => { if (e.name !== 'AbortError') show(error, explain(e)); });
    });
    if (form.dataset.conditional && PublicKeyCredential.isConditionalMediationAvailable)
      PublicKeyCredential.isConditionalMediationAvailable()
        .then((yes) => { if (yes) return signIn('conditional'); })
        .catch((e) => console.debug('conditional: ' + e.name + ': ' + e.message));
  }

  // The account page: a new passkey.
  const add = document.getElementById('add-passkey');
  if (add) {
    const error = document.getElementById('passkey-error');
    if (!supported()) {
      show(error, 'This browser cannot create passkeys.');
      add.querySelector('button').disabled = true;
    }
    add.addEventListener('submit', async (event) => {
      event.preventDefault();
      show(error, '');
      const csrf = add.dataset.csrf;
      try {
        const begun = await fetch('/account/passkeys/options', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf }),
        });
        const started = await begun.json();
        if (!begun.ok) throw new Error(started.error || 'The passkey could not be started.');
        const c = await navigator.credentials.create({ publicKey: creationOptions(started.options) });
        const credential = {
          id: c.id, rawId: toB64u(c.rawId), type: c.type,
          authenticatorAttachment: c.authenticatorAttachment || undefined,
          clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
          response: {
            clientDataJSON: toB64u(c.response.clientDataJSON),
            attestationObject: toB64u(c.response.attestationObject),
            transports: c.response.getTransports ? c.response.getTransports() : [],
          },
        };
        const done = await fetch('/account/passkeys', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ csrf, ceremony: started.ceremony,
                                 name: add.elements.name.value, credential }),
        });
        const answer = await done.json();
        if (!done.ok) throw new Error(answer.error || 'The passkey was not added.');
        window.location.assign('/account?done=added');
      } catch (e) {
        show(error, explain(e));
      }
    });
  }
})();
)js";
}

} // namespace latchkey::oidc::pages
