// SPDX-License-Identifier: Apache-2.0
// The helpers that build the steps of the engine's dialogues.
#include "credentials/engine_context.hpp"

#include <pwd.h>

namespace latchkey::credentials::engine {

Step verdict(Outcome outcome, std::string message, std::optional<std::string> logon_id)
{
    Step s;
    s.verdict = proto::Verdict{outcome, std::move(message), std::move(logon_id)};
    return s;
}

proto::Message line(PromptStyle style, std::string text)
{
    return {style, std::move(text), false};
}

proto::Message secret_line(std::string_view text)
{
    return {PromptStyle::info, std::string(text), true};
}

Step prompt(PromptKind kind,
            PromptStyle style,
            std::string text,
            std::vector<proto::Message> messages)
{
    Step s;
    s.messages = std::move(messages);
    s.prompt = proto::Prompt{kind, style, std::move(text), std::nullopt};
    return s;
}

std::string lowercase(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return s;
}

std::string local_part(const std::string& user)
{
    const auto at = user.find('@');
    return at == std::string::npos ? user : user.substr(0, at);
}

std::optional<std::string> user_name_of(uid_t uid)
{
    struct passwd pw {};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr)
        return std::nullopt;
    return std::string(pw.pw_name);
}

std::string policy_summary(const proto::PasswordPolicy& p)
{
    std::vector<std::string> classes;
    if (p.require_lowercase)
        classes.emplace_back("a lowercase letter");
    if (p.require_uppercase)
        classes.emplace_back("an uppercase letter");
    if (p.require_digit)
        classes.emplace_back("a digit");
    if (p.require_symbol)
        classes.emplace_back("a symbol");
    std::string s = "A new password needs at least " + std::to_string(p.min_length) + " characters";
    for (std::size_t i = 0; i < classes.size(); ++i)
        s += (i == 0 ? " with " : i + 1 == classes.size() ? " and " : ", ") + classes[i];
    if (p.history > 0)
        s += ", and must differ from the last " + std::to_string(p.history);
    return s + ".";
}

std::string throttled_message(core::TimePoint until)
{
    return "Too many failed logons from your address: try again after " + when(until) + ".";
}

bool network_allowed(const directory::AccountRecord& account,
                     const std::optional<std::string>& rhost)
{
    const auto& networks = account.settings.allowed_networks;
    if (networks.empty())
        return true;
    return rhost && std::any_of(networks.begin(), networks.end(), [&](const std::string& n) {
               const auto net = directory::parse_cidr(n);
               return net && directory::contains(*net, *rhost);
           });
}

std::string when(core::TimePoint t)
{
    return core::to_iso8601(t);
}

core::Secret saved_dialogue(std::string_view kind, boost::json::value state)
{
    boost::json::object o;
    o["kind"] = kind;
    o["state"] = std::move(state);
    std::string text = boost::json::serialize(o);
    core::Secret out(text);
    core::wipe(text.data(), text.size());
    return out;
}

core::Result<directory::ResolvedUser> saved_user(AuthEngine::Context& ctx,
                                                 const std::string& user_id)
{
    return ctx.directory.resolve_id(user_id);
}

} // namespace latchkey::credentials::engine
