// SPDX-License-Identifier: Apache-2.0
// HTML of the logon pages.
#include "oidc/pages.hpp"

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

} // namespace

std::string username(const FormState& form, std::string_view client_name,
                     const std::optional<std::string>& fixed_domain, std::string_view prefill,
                     std::string_view error)
{
    std::string b = "<h1>Sign in</h1>" + for_client(client_name);
    if (!error.empty())
        b += "<p class=\"error\" role=\"alert\">" + html_escape(error) + "</p>";
    b += "<form method=\"post\" action=\"/login\">" + hidden(form);
    if (fixed_domain) {
        b += "<label for=\"username\">User name</label><div class=\"domain\">"
             "<input id=\"username\" name=\"username\" autocomplete=\"username\" required "
             "autofocus value=\"" +
             html_escape(prefill) + "\"><span>@" + html_escape(*fixed_domain) + "</span></div>";
    } else {
        b += "<label for=\"username\">User name</label>"
             "<input id=\"username\" name=\"username\" autocomplete=\"username\" required "
             "autofocus placeholder=\"name@domain\" value=\"" +
             html_escape(prefill) + "\"><p class=\"hint\">as name@domain, for example "
                                    "alice@web.example.internal</p>";
    }
    b += "<button type=\"submit\">Next</button></form>";
    return layout("Sign in", b);
}

std::string prompt(const FormState& form, std::string_view client_name, std::string_view user,
                   const std::vector<proto::Message>& messages, const proto::Prompt& p)
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
    case PromptKind::other: break;
    }
    b += "<form method=\"post\" action=\"/login\">" + hidden(form) +
         "<label for=\"answer\">" + html_escape(label) +
         "</label><input id=\"answer\" name=\"answer\" type=\"" + type + "\" autocomplete=\"" +
         autocomplete + "\"" + extra + " autofocus><button type=\"submit\">Continue</button>" +
         "</form>";
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
.error { color: var(--bad); font-weight: 600; }
.info { margin: .5rem 0; }
pre.secret { font: 10px/1 ui-monospace, monospace; overflow-x: auto; padding: .5rem;
             background: #000; color: #fff; border-radius: 6px; }
)css";
}

} // namespace latchkey::oidc::pages
