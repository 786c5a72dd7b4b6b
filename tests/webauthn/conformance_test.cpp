// SPDX-License-Identifier: Apache-2.0
// Decides the WebAuthn responses in ../shared/conformance/webauthn/ (real responses collected
// from other relying-party libraries' test suites, none written here) as each file's
// expected.outcome says, except the cases where latchkey is deliberately stricter, which the
// table below names with the reason latchkey gives. The vectors are read where they are.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <boost/json.hpp>

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "webauthn/authentication.hpp"
#include "webauthn/reason.hpp"
#include "webauthn/registration.hpp"

namespace latchkey::webauthn {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

/// Vectors whose source accepts them and latchkey refuses, on purpose. docs/passkeys.md lists
/// them with the reasons.
const std::map<std::string, Reason, std::less<>>& deliberately_stricter()
{
    static const std::map<std::string, Reason, std::less<>> table{};
    return table;
}

fs::path conformance_dir()
{
    return fs::path(LATCHKEY_SOURCE_DIR) / ".." / "shared" / "conformance" / "webauthn";
}

std::vector<std::string> vector_files()
{
    std::vector<std::string> out;
    std::error_code ec;
    for (const char* kind : {"registration", "authentication"}) {
        const auto dir = conformance_dir() / kind;
        if (!fs::is_directory(dir, ec))
            continue;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".json")
                out.push_back(entry.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

json::object load(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str()).as_object();
}

std::vector<std::string> strings(const json::value& v)
{
    std::vector<std::string> out;
    if (v.is_string())
        out.emplace_back(v.get_string());
    else
        for (const auto& s : v.as_array())
            out.emplace_back(s.as_string());
    return out;
}

std::string bytes(const json::value& v)
{
    auto b = core::base64_decode(v.as_string());
    return b ? *b : std::string{};
}

core::TimePoint time_of(const json::object& o)
{
    const auto* at = o.if_contains("verifyAt");
    if (at == nullptr || !at->is_string())
        return std::chrono::system_clock::now();
    std::tm tm{};
    std::istringstream in(std::string(at->get_string()));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

PendingCeremony pending_of(const json::object& v, PendingCeremony::Kind kind, core::TimePoint now)
{
    PendingCeremony p;
    p.kind = kind;
    p.challenge = bytes(v.at("expectedChallenge"));
    p.rp_ids = strings(v.at("expectedRPID"));
    p.origins = strings(v.at("expectedOrigin"));
    p.require_user_presence =
        !v.contains("requireUserPresence") || v.at("requireUserPresence").as_bool();
    p.user_verification =
        v.contains("requireUserVerification") && v.at("requireUserVerification").as_bool()
            ? UserVerification::required
            : UserVerification::preferred;
    p.expires_at = now + std::chrono::minutes(5);
    if (const auto* algs = v.if_contains("supportedAlgorithmIDs"); algs && algs->is_array()) {
        for (const auto& a : algs->get_array())
            if (const auto alg = to_algorithm(a.as_int64()))
                p.algorithms.push_back(*alg);
    } else {
        p.algorithms = {CoseAlgorithm::es256, CoseAlgorithm::eddsa, CoseAlgorithm::rs256};
    }
    return p;
}

std::string decoded_fmt(const json::object& v)
{
    const auto* decoded = v.if_contains("decoded");
    const auto* fmt = decoded != nullptr ? decoded->as_object().if_contains("fmt") : nullptr;
    return fmt != nullptr && fmt->is_string() ? std::string(fmt->get_string()) : std::string{};
}

struct Decision {
    bool valid = false;
    std::string reason;
};

Decision decide(const json::object& v)
{
    const auto now = time_of(v);
    const std::string response = json::serialize(v.at("response"));
    core::Error error;
    if (v.at("kind") == "registration") {
        TrustPolicy policy;
        if (const auto* anchors = v.if_contains("trustAnchors"); anchors && anchors->is_object())
            for (const auto& [fmt, list] : anchors->get_object())
                for (const auto& der : list.as_array())
                    policy.anchors[std::string(fmt)].push_back(bytes(der));
        auto parsed = parse_registration_response(response);
        if (!parsed)
            return {false, std::string(reason_name(reason_of(parsed.error()))) + ": " +
                               parsed.error().message};
        auto r = verify_registration(pending_of(v, PendingCeremony::Kind::registration, now),
                                     *parsed, policy, now);
        if (r)
            return {true, {}};
        error = r.error();
    } else {
        auto parsed = parse_authentication_response(response);
        if (!parsed)
            return {false, std::string(reason_name(reason_of(parsed.error()))) + ": " +
                               parsed.error().message};
        const auto& c = v.at("credential").as_object();
        StoredCredential stored;
        stored.id = bytes(c.at("id"));
        stored.public_key = bytes(c.at("publicKey"));
        stored.sign_count = static_cast<std::uint32_t>(c.at("counter").as_int64());
        // The vectors do not say whose credential it is: the user is the one the response names,
        // or one identified before the ceremony (passkey as a second step).
        auto pending = pending_of(v, PendingCeremony::Kind::authentication, now);
        stored.user_handle = parsed->user_handle.value_or("user identified beforehand");
        pending.user_handle = stored.user_handle;
        auto r = verify_authentication(pending, *parsed, stored, now);
        if (r)
            return {true, {}};
        error = r.error();
    }
    return {false, std::string(reason_name(reason_of(error))) + ": " + error.message};
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, DecidesAsTheSourceExpects)
{
    const auto v = load(GetParam());
    const std::string id(v.at("id").as_string());
    const bool expected_valid = v.at("expected").at("outcome") == "valid";
    const auto decision = decide(v);
    const auto stricter = deliberately_stricter().find(id);
    if (stricter != deliberately_stricter().end()) {
        EXPECT_TRUE(expected_valid) << id << " is listed as stricter but its source refuses it";
        EXPECT_FALSE(decision.valid) << id;
        EXPECT_EQ(decision.reason.substr(0, decision.reason.find(':')),
                  reason_name(stricter->second))
            << id << ": " << decision.reason;
        return;
    }
    EXPECT_EQ(decision.valid, expected_valid)
        << id << " (expected " << (expected_valid ? "valid" : "invalid")
        << "): " << (decision.valid ? "accepted" : decision.reason);
}

// Every signature and binding a format has must cover clientDataJSON: the same response with
// one byte more of whitespace in it (still the same members) is refused, for every valid
// vector whose format signs anything (a "none" registration signs nothing, by definition).
TEST_P(Conformance, RefusesTheResponseOnceItsClientDataChanges)
{
    auto v = load(GetParam());
    const std::string id(v.at("id").as_string());
    if (v.at("expected").at("outcome") != "valid" || decoded_fmt(v) == "none")
        return;
    auto& response = v.at("response").at("response").as_object();
    const std::string changed = bytes(response.at("clientDataJSON")) + " ";
    response["clientDataJSON"] = core::base64_encode(changed, true, false);
    const auto decision = decide(v);
    EXPECT_FALSE(decision.valid) << id;
    const auto reason = decision.reason.substr(0, decision.reason.find(':'));
    EXPECT_TRUE(reason == "bad_signature" || reason == "attestation_invalid")
        << id << ": " << decision.reason;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info)
{
    std::string name = fs::path(info.param).stem().string();
    std::replace_if(
        name.begin(), name.end(),
        [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

INSTANTIATE_TEST_SUITE_P(Vectors, Conformance, ::testing::ValuesIn(vector_files()), test_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Conformance);

/// The score, printed for docs/passkeys.md; present only where the vectors are.
class ConformanceScore : public ::testing::TestWithParam<int> {};

TEST_P(ConformanceScore, IsPrinted)
{
    const auto files = vector_files();
    int agree = 0;
    int stricter = 0;
    for (const auto& path : files) {
        const auto v = load(path);
        const bool expected_valid = v.at("expected").at("outcome") == "valid";
        const auto decision = decide(v);
        if (deliberately_stricter().count(std::string(v.at("id").as_string())) != 0)
            stricter += decision.valid ? 0 : 1;
        else
            agree += decision.valid == expected_valid ? 1 : 0;
        std::printf("  %-45s %-7s %s\n", std::string(v.at("id").as_string()).c_str(),
                    decision.valid ? "valid" : "invalid", decision.reason.c_str());
    }
    std::printf("webauthn conformance: %d of %zu decided as their source expects, %d deliberately "
                "stricter (../shared/conformance/webauthn)\n",
                agree, files.size(), stricter);
    EXPECT_EQ(static_cast<std::size_t>(agree + stricter), files.size());
}

std::vector<int> score_once()
{
    return vector_files().empty() ? std::vector<int>{} : std::vector<int>{1};
}

INSTANTIATE_TEST_SUITE_P(All, ConformanceScore, ::testing::ValuesIn(score_once()));
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceScore);

} // namespace
} // namespace latchkey::webauthn
