// SPDX-License-Identifier: Apache-2.0
// HTML of the logon pages.
#include "oidc/pages.hpp"

#include "core/clock.hpp"
#include "core/secret.hpp"
#include "credentials/qr.hpp"
#include "oidc/web.hpp"

namespace latchkey::oidc::pages {

namespace {

using proto::PromptKind;
using proto::PromptStyle;

std::string layout(std::string_view title, const std::string& body)
{
    return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>" +
           html_escape(title) +
           " · latchkey</title><link rel=\"stylesheet\" href=\"/static/latchkey.css\">"
           "</head><body><main class=\"card\"><p class=\"brand\">latchkey</p>" +
           body + "</main></body></html>\n";
}

std::string hidden(const FormState& f)
{
    return "<input type=\"hidden\" name=\"tx\" value=\"" + html_escape(f.tx) +
           "\"><input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(f.csrf) + "\">";
}

std::string for_client(std::string_view client_name)
{
    return "<p class=\"for\">to continue to <strong>" + html_escape(client_name) +
           "</strong></p>";
}

/// The passkey button and the form the script posts its answer with (the assertion's parts,
/// base64url, each in a field of its own). Without the script the button stays hidden.
std::string passkey_form(const FormState& form, const PasskeyOffer& offer, std::string_view label)
{
    std::string b = "<form id=\"passkey-form\" method=\"post\" action=\"/login\" "
                    "data-options=\"" +
                    html_escape(offer.options_json) + "\"" +
                    (offer.conditional ? " data-conditional=\"1\"" : "") + ">" + hidden(form);
    for (const char* f : {"pk_id", "pk_client_data", "pk_authenticator_data", "pk_signature",
                          "pk_user_handle"})
        b += std::string("<input type=\"hidden\" name=\"") + f + "\">";
    b += "<button type=\"button\" id=\"passkey-button\" hidden>" + html_escape(label) +
         "</button><p class=\"error\" id=\"passkey-error\" aria-live=\"assertive\" hidden></p></form>";
    return b;
}

constexpr std::string_view script_tag = "<script src=\"/static/passkey.js\" defer></script>";

} // namespace

std::string username(const FormState& form, std::string_view client_name,
                     const std::optional<std::string>& fixed_domain, std::string_view prefill,
                     std::string_view error, const std::optional<PasskeyOffer>& passkey)
{
    // Conditional UI: the browser lists the site's passkeys in the user name's autofill.
    const std::string autocomplete =
        passkey && passkey->conditional ? "username webauthn" : "username";
    std::string b = "<h1>Sign in</h1>" + for_client(client_name);
    if (!error.empty())
        b += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
    b += "<form method=\"post\" action=\"/login\">" + hidden(form);
    if (fixed_domain) {
        b += "<label for=\"username\">User name</label><div class=\"domain\">"
             "<input id=\"username\" name=\"username\" autocomplete=\"" +
             autocomplete + "\" required autofocus value=\"" + html_escape(prefill) +
             "\"><span>@" + html_escape(*fixed_domain) + "</span></div>";
    } else {
        b += "<label for=\"username\">User name</label>"
             "<input id=\"username\" name=\"username\" autocomplete=\"" +
             autocomplete + "\" required autofocus placeholder=\"name@domain\" value=\"" +
             html_escape(prefill) + "\"><p class=\"hint\">as name@domain, for example "
                                    "alice@web.example.internal</p>";
    }
    b += "<button type=\"submit\">Next</button></form>";
    if (passkey)
        b += "<p class=\"or\"><span>or</span></p>" +
             passkey_form(form, *passkey, "Sign in with a passkey") + std::string(script_tag);
    return layout("Sign in", b);
}

std::string prompt(const FormState& form, std::string_view client_name, std::string_view user,
                   const std::vector<proto::Message>& messages, const proto::Prompt& p,
                   const std::optional<PasskeyOffer>& passkey)
{
    std::string b = "<h1>Sign in</h1>" + for_client(client_name) + "<p class=\"user\">" +
                    html_escape(user) + "</p>";
    bool in_pre = false;
    for (const auto& m : messages) {
        // Secret lines of an enrolment (QR code, key, URI) keep their layout.
        if (m.secret) {
            if (!in_pre)
                b += "<pre class=\"secret\">";
            in_pre = true;
            b += html_escape(m.text) + "\n";
            continue;
        }
        if (in_pre)
            b += "</pre>";
        in_pre = false;
        b += std::string("<p class=\"") + (m.style == PromptStyle::error ? "error" : "info") +
             "\"" + (m.style == PromptStyle::error ? " role=\"alert\"" : "") + ">" +
             html_escape(m.text) + "</p>";
    }
    if (in_pre)
        b += "</pre>";
    std::string label(p.text);
    while (!label.empty() && (label.back() == ' ' || label.back() == ':'))
        label.pop_back();
    std::string type = p.style == PromptStyle::echo_on ? "text" : "password";
    std::string autocomplete = "off";
    std::string extra;
    switch (p.kind) {
    case PromptKind::password:
    case PromptKind::current_password: autocomplete = "current-password"; break;
    case PromptKind::new_password:
    case PromptKind::repeat_password: autocomplete = "new-password"; break;
    case PromptKind::verification_code:
        type = "text";
        autocomplete = "one-time-code";
        extra = " inputmode=\"numeric\" autocapitalize=\"none\" spellcheck=\"false\"";
        break;
    case PromptKind::other:
    case PromptKind::passkey:
    case PromptKind::security_key: break; // the host's key: never asked of a browser
    }
    if (p.kind == PromptKind::passkey) {
        // The second factor is a passkey and nothing else.
        if (!passkey)
            return layout("Sign in", b + "<p class=\"error\" role=\"alert\">Passkeys are not "
                                         "available here; ask an administrator.</p>");
        return layout("Sign in",
                      b + passkey_form(form, *passkey, "Confirm with a passkey") +
                          std::string(script_tag));
    }
    const bool code = p.kind == PromptKind::verification_code;
    if (passkey && !code)
        b += passkey_form(form, *passkey, "Log on with Passkey") +
             "<p class=\"or\"><span>or use your password instead</span></p>";
    b += "<form method=\"post\" action=\"/login\">" + hidden(form) +
         "<label for=\"answer\">" + html_escape(label) +
         "</label><input id=\"answer\" name=\"answer\" type=\"" + type + "\" autocomplete=\"" +
         autocomplete + "\"" + extra + " autofocus><button type=\"submit\">Continue</button>" +
         "</form>";
    if (passkey && code)
        b += "<p class=\"or\"><span>or</span></p>" +
             passkey_form(form, *passkey, "Use a passkey instead");
    if (passkey)
        b += script_tag;
    return layout("Sign in", b);
}

namespace {

/// What each scope lets the client have, in words.
std::string_view scope_words(std::string_view scope)
{
    if (scope == "openid")
        return "Know who you are (your user id)";
    if (scope == "profile")
        return "See your name and user name";
    if (scope == "email")
        return "See your email address";
    if (scope == "offline_access")
        return "Stay signed in while you are away (refresh tokens)";
    return {};
}

} // namespace

std::string consent(const FormState& form, std::string_view client_name, std::string_view user,
                    const std::vector<std::string>& scopes)
{
    std::string b = "<h1>Allow access?</h1><p class=\"user\">" + html_escape(user) +
                    "</p><p class=\"info\"><strong>" + html_escape(client_name) +
                    "</strong> asks to:</p><ul class=\"scopes\">";
    for (const auto& s : scopes) {
        const auto words = scope_words(s);
        b += "<li>" + html_escape(words.empty() ? std::string_view(s) : words) + "</li>";
    }
    b += "</ul><form method=\"post\" action=\"/login\">" + hidden(form) +
         "<div class=\"choices\"><button type=\"submit\" name=\"decision\" value=\"deny\" "
         "class=\"secondary\">Deny</button><button type=\"submit\" name=\"decision\" "
         "value=\"allow\" autofocus>Allow</button></div></form>";
    return layout("Allow access", b);
}

std::string device(const DeviceView& v)
{
    std::string b;
    if (v.user_code.empty() || !v.error.empty()) {
        b = "<h1>Approve a sign-in</h1><p class=\"user\">" + html_escape(v.logon_name) + "</p>";
        if (!v.error.empty())
            b += "<p class=\"error\" role=\"alert\">" + html_escape(v.error) + "</p>";
        b += "<form method=\"get\" action=\"/device\"><label for=\"code\">Enter the code "
             "shown on your device</label><input id=\"code\" name=\"code\" autocomplete=\"off\" "
             "autocapitalize=\"characters\" spellcheck=\"false\" maxlength=\"16\" "
             "placeholder=\"XXXX-XXXX\" required autofocus><button type=\"submit\">Next"
             "</button></form>";
        return layout("Approve a sign-in", b);
    }
    b = "<h1>" + html_escape(v.title) + "</h1><p class=\"user\">" + html_escape(v.logon_name) +
        "</p><dl class=\"request\">";
    for (const auto& [label, value] : v.details)
        b += "<dt>" + html_escape(label) + "</dt><dd>" + html_escape(value) + "</dd>";
    b += "</dl><p class=\"hint\">Approve only if you started this yourself, just now.</p>"
         "<form method=\"post\" action=\"/device\"><input type=\"hidden\" name=\"csrf\" "
         "value=\"" +
         html_escape(v.csrf) + "\"><input type=\"hidden\" name=\"code\" value=\"" +
         html_escape(v.user_code) +
         "\"><div class=\"choices\"><button type=\"submit\" name=\"decision\" "
         "value=\"deny\" class=\"secondary\">Deny</button><button type=\"submit\" "
         "name=\"decision\" value=\"approve\">Approve</button></div></form>";
    return layout("Approve a sign-in", b);
}

std::string device_done(std::string_view title, std::string_view message)
{
    return layout(title, "<h1>" + html_escape(title) + "</h1><p class=\"info\">" +
                             html_escape(message) + "</p>");
}

std::string problem(std::string_view title, std::string_view message)
{
    return layout(title, "<h1>" + html_escape(title) + "</h1><p class=\"error\" role=\"alert\">" +
                             html_escape(message) + "</p>");
}

std::string signed_out(std::string_view message)
{
    return layout("Signed out", "<h1>Signed out</h1><p class=\"info\">" + html_escape(message) +
                                    "</p>");
}

namespace {

std::string day_of(std::int64_t unix_time)
{
    return core::to_iso8601(core::from_unix(unix_time)).substr(0, 10);
}

} // namespace

std::string account(const AccountView& v)
{
    std::string b = "<h1>Your account</h1><p class=\"user\">" + html_escape(v.logon_name) +
                    "</p>";
    if (!v.notice.empty())
        b += "<p class=\"notice\" role=\"status\">" + html_escape(v.notice) + "</p>";
    if (!v.error.empty())
        b += "<p class=\"error\" role=\"alert\">" + html_escape(v.error) + "</p>";
    b += "<h2>Passkeys</h2>";
    if (!v.passkey_logon_allowed)
        b += "<p class=\"info\">Your account does not allow signing in with a passkey.</p>";
    if (v.passkeys.empty()) {
        b += "<p class=\"info\" id=\"no-passkeys\">You have no passkeys yet. A passkey lets "
             "you sign in with your device's screen lock or a security key instead of a "
             "password.</p>";
    } else {
        b += "<ul class=\"passkeys\">";
        for (const auto& p : v.passkeys) {
            const std::string id = html_escape(p.id);
            b += "<li class=\"passkey\" data-id=\"" + id + "\"><p><strong>" +
                 html_escape(p.name) + "</strong> <span class=\"kind\">" +
                 (p.synced ? "synced passkey" : "on one device") + "</span></p><p class=\"when\">"
                 "Added " + day_of(p.created_at) +
                 (p.last_used_at ? ", last used " + day_of(*p.last_used_at) : ", never used") +
                 "</p><form method=\"post\" action=\"/account/passkeys/rename\" "
                 "class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"" +
                 html_escape(v.csrf) + "\"><input type=\"hidden\" name=\"id\" value=\"" + id +
                 "\"><input name=\"name\" aria-label=\"New name\" maxlength=\"64\" "
                 "required value=\"" + html_escape(p.name) +
                 "\"><button type=\"submit\" class=\"secondary\">Rename</button></form>"
                 "<form method=\"post\" action=\"/account/passkeys/remove\" class=\"inline\">"
                 "<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(v.csrf) +
                 "\"><input type=\"hidden\" name=\"id\" value=\"" + id +
                 "\"><button type=\"submit\" class=\"danger\">Remove</button></form></li>";
        }
        b += "</ul>";
    }
    if (v.passkeys_enabled) {
        b += "<form id=\"add-passkey\" data-csrf=\"" + html_escape(v.csrf) +
             "\"><label for=\"passkey-name\">Name of the new passkey (optional)</label>"
             "<input id=\"passkey-name\" name=\"name\" maxlength=\"64\" "
             "placeholder=\"for example: work laptop\"><button type=\"submit\" "
             "id=\"add-passkey-button\">Add a passkey</button><p class=\"error\" "
             "id=\"passkey-error\" aria-live=\"assertive\" hidden></p></form>" +
             std::string(script_tag);
    } else {
        b += "<p class=\"info\">Passkeys are not set up on this server.</p>";
    }
    // Password forms name their user, hidden, for password managers.
    const std::string csrf_field =
        "<input type=\"hidden\" name=\"csrf\" value=\"" + html_escape(v.csrf) + "\">";
    const std::string user_field = "<input type=\"text\" name=\"username\" "
                                   "autocomplete=\"username\" value=\"" +
                                   html_escape(v.logon_name) + "\" hidden>";
    b += "<h2>Password</h2>";
    if (!v.has_password) {
        b += "<p class=\"info\">You have no password; an administrator can set one.</p>";
    } else if (!v.may_change_password) {
        b += "<p class=\"info\">Your account does not allow changing your own password; ask "
             "an administrator.</p>";
    } else {
        if (!v.password_error.empty())
            b += "<p class=\"error\" role=\"alert\">" + html_escape(v.password_error) + "</p>";
        b += "<form method=\"post\" action=\"/account/password\">" + csrf_field + user_field +
             "<label for=\"current\">Current password</label><input id=\"current\" "
             "name=\"current\" type=\"password\" autocomplete=\"current-password\" required>"
             "<label for=\"new\">New password</label><input id=\"new\" name=\"new\" "
             "type=\"password\" autocomplete=\"new-password\" required><label "
             "for=\"repeat\">Retype new password</label><input id=\"repeat\" name=\"repeat\" "
             "type=\"password\" autocomplete=\"new-password\" required><button "
             "type=\"submit\" id=\"change-password\">Change password</button></form><p "
             "class=\"hint\">Changing it signs you out everywhere else.</p>";
    }
    b += "<h2>Authenticator app</h2>";
    if (!v.mfa_error.empty())
        b += "<p class=\"error\" role=\"alert\">" + html_escape(v.mfa_error) + "</p>";
    const std::string password_field =
        user_field +
        "<label for=\"mfa-password\">Your password</label><input id=\"mfa-password\" "
        "name=\"password\" type=\"password\" autocomplete=\"current-password\" required>";
    if (v.recovery_codes != nullptr) {
        b += "<p class=\"notice\" role=\"status\">Authenticator app set up. Your recovery "
             "codes follow: each works once in place of a code. Keep them safe; they are not "
             "shown again.</p><pre class=\"codes\">";
        for (const auto& c : *v.recovery_codes)
            b += html_escape(c.view()) + "\n";
        b += "</pre>";
    } else if (!v.may_manage_mfa) {
        b += "<p class=\"info\">Your account does not allow managing your own MFA devices; "
             "ask an administrator.</p>";
    } else if (v.enrolling != nullptr) {
        b += "<p class=\"info\">Scan this QR code with your authenticator app, or enter the key "
             "by hand; then enter the code it shows, wait for it to change, and enter the next "
             "one.</p>";
        if (auto svg = credentials::qr_svg(v.enrolling->uri.view())) {
            b += "<div class=\"qr\">" + *svg + "</div>";
            core::wipe(svg->data(), svg->size());
        } else { // the terminal's drawing, which the URI made too
            b += "<pre class=\"secret\">";
            for (const auto& line : v.enrolling->qr)
                b += html_escape(line.view()) + "\n";
            b += "</pre>";
        }
        b += "<p class=\"info\">Key: <code id=\"totp-key\">" +
             html_escape(v.enrolling->key.view()) +
             "</code></p><form method=\"post\" action=\"/account/mfa/confirm\">" + csrf_field +
             "<label for=\"first\">Verification code</label><input id=\"first\" "
             "name=\"first\" autocomplete=\"one-time-code\" inputmode=\"numeric\" required>"
             "<label for=\"second\">Next verification code</label><input id=\"second\" "
             "name=\"second\" autocomplete=\"one-time-code\" inputmode=\"numeric\" "
             "required><button type=\"submit\" id=\"confirm-mfa\">Set up</button></form>";
    } else if (v.has_mfa_device) {
        b += "<p class=\"info\">An authenticator app gives your verification codes.</p>"
             "<form method=\"post\" action=\"/account/mfa/remove\">" +
             csrf_field + password_field +
             "<button type=\"submit\" class=\"danger\" id=\"remove-mfa\">Remove the "
             "authenticator app</button></form>";
    } else {
        b += "<p class=\"info\">No authenticator app is set up.</p><form method=\"post\" "
             "action=\"/account/mfa/start\">" +
             csrf_field + password_field +
             "<button type=\"submit\" id=\"start-mfa\">Set up an authenticator app</button>"
             "</form>";
    }
    b += "<p class=\"links\"><a href=\"/logout\">Sign out</a></p>";
    return layout("Your account", b);
}

std::string signed_in(std::string_view logon_name)
{
    return layout("Signed in", "<h1>Signed in</h1><p class=\"info\">You are signed in as " +
                                   html_escape(logon_name) +
                                   ".</p><p class=\"links\"><a href=\"/account\">Your "
                                   "account: passkeys</a> · <a href=\"/logout\">Sign out</a></p>");
}

std::string_view stylesheet()
{
    return R"css(:root { color-scheme: light dark; --accent: #2f5dd8; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       background: Canvas; color: CanvasText; }
.card { width: min(26rem, 100% - 2rem); padding: 2rem; border-radius: 12px;
        border: 1px solid color-mix(in srgb, CanvasText 15%, transparent);
        box-shadow: 0 4px 24px color-mix(in srgb, CanvasText 8%, transparent); }
.brand { margin: 0 0 1rem; font-weight: 700; letter-spacing: .04em; color: var(--accent); }
h1 { margin: 0 0 .25rem; font-size: 1.5rem; }
.for, .hint, .user { margin: 0 0 1rem; opacity: .75; font-size: .9rem; }
.user { font-weight: 600; opacity: 1; }
label { display: block; margin: 1rem 0 .35rem; font-weight: 600; }
input { width: 100%; padding: .65rem .75rem; font: inherit; border-radius: 8px;
        border: 1px solid color-mix(in srgb, CanvasText 30%, transparent); background: Field;
        color: FieldText; }
input:focus { outline: 2px solid var(--accent); outline-offset: 1px; }
.domain { display: flex; align-items: center; gap: .35rem; }
.domain input { flex: 1; min-width: 0; }
.domain span { white-space: nowrap; opacity: .8; }
button { margin-top: 1.25rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600;
         border: 0; border-radius: 8px; background: var(--accent); color: white; cursor: pointer; }
button:focus-visible { outline: 2px solid CanvasText; outline-offset: 2px; }
button.secondary { background: transparent; color: CanvasText;
                   border: 1px solid color-mix(in srgb, CanvasText 30%, transparent); }
.choices { display: flex; gap: .75rem; }
.scopes { margin: .25rem 0 0; padding-left: 1.25rem; }
.request { display: grid; grid-template-columns: auto 1fr; gap: .25rem 1rem; margin: 1rem 0; }
.request dt { font-weight: 600; }
.request dd { margin: 0; overflow-wrap: anywhere; }
.error { color: var(--bad); font-weight: 600; }
.info { margin: .5rem 0; }
pre.secret { font: 10px/1 ui-monospace, monospace; overflow-x: auto; padding: .5rem;
             background: #000; color: #fff; border-radius: 6px; }
.qr svg { display: block; width: 100%; max-width: 15rem; margin: .5rem auto; }
h2 { margin: 1.5rem 0 .5rem; font-size: 1.1rem; }
.notice { margin: .5rem 0; font-weight: 600; }
.or { display: flex; align-items: center; gap: .75rem; margin: 1.25rem 0 0; opacity: .7;
      font-size: .9rem; }
.or::before, .or::after { content: ""; flex: 1; border-top: 1px solid
                          color-mix(in srgb, CanvasText 20%, transparent); }
.passkeys { list-style: none; margin: 0; padding: 0; }
.passkey { padding: .75rem 0; border-top: 1px solid color-mix(in srgb, CanvasText 12%, transparent); }
.passkey p { margin: 0; }
.passkey .kind, .passkey .when { opacity: .75; font-size: .85rem; }
form.inline { display: flex; gap: .5rem; margin-top: .5rem; }
form.inline input { flex: 1; min-width: 0; padding: .4rem .6rem; }
form.inline button { width: auto; margin: 0; padding: .4rem .8rem; }
button.danger { background: transparent; color: var(--bad); border: 1px solid var(--bad); }
.links { margin-top: 1.5rem; font-size: .9rem; }
pre.codes { font: 14px/1.6 ui-monospace, monospace; padding: .5rem .75rem; border-radius: 6px;
            border: 1px solid color-mix(in srgb, CanvasText 20%, transparent); }
a { color: var(--accent); }
)css";
}

} // namespace latchkey::oidc::pages
