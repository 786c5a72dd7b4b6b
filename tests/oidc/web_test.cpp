// SPDX-License-Identifier: Apache-2.0
// Unit tests of the provider's web pieces: parameter and target parsing, cookies, client
// credentials, escaping, redirect building and the headers every response carries.
#include "oidc/web.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace latchkey::oidc {
namespace {

HttpRequest request_with(http::field field, std::string_view value)
{
    HttpRequest r{http::verb::get, "/", 11};
    r.set(field, value);
    return r;
}

HttpRequest basic_request(std::string_view user_colon_password)
{
    return request_with(http::field::authorization,
                        "Basic " + core::base64_encode(user_colon_password, false, true));
}

std::string header(const HttpResponse& r, http::field f)
{
    const auto it = r.find(f);
    return it == r.end() ? std::string("<absent>") : std::string(it->value());
}

std::string header(const HttpResponse& r, std::string_view name)
{
    const auto it = r.find(name);
    return it == r.end() ? std::string("<absent>") : std::string(it->value());
}

// ---- parse_params -------------------------------------------------------------------------

TEST(WebParams, PlusIsASpaceAndEscapesAreDecoded)
{
    const auto p = parse_params("scope=openid+profile&x=%2B&y=a%20b%26c%3Dd&z=%e2%82%AC");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->size(), 4U);
    EXPECT_EQ(p->at("scope"), "openid profile");
    EXPECT_EQ(p->at("x"), "+");
    EXPECT_EQ(p->at("y"), "a b&c=d");
    EXPECT_EQ(p->at("z"), "\xe2\x82\xac");
}

TEST(WebParams, KeysAreDecodedAndAParameterWithoutValueIsEmpty)
{
    const auto p = parse_params("my%20key=1&flag&other=");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->at("my key"), "1");
    EXPECT_EQ(p->at("flag"), "");
    EXPECT_EQ(p->at("other"), "");
}

TEST(WebParams, ADuplicateParameterIsRefused)
{
    EXPECT_FALSE(parse_params("a=1&a=2"));
    EXPECT_FALSE(parse_params("a=1&a=1"));
    // Also when only the decoded names are equal.
    EXPECT_FALSE(parse_params("a%20b=1&a+b=2"));
    EXPECT_TRUE(parse_params("a=1&b=1"));
}

TEST(WebParams, ABadPercentEscapeIsRefused)
{
    EXPECT_FALSE(parse_params("a=%"));
    EXPECT_FALSE(parse_params("a=%4"));
    EXPECT_FALSE(parse_params("a=%zz"));
    EXPECT_FALSE(parse_params("a=%4g"));
    EXPECT_FALSE(parse_params("%=1"));
    EXPECT_FALSE(parse_params("ok=1&b=x%"));
    const auto fine = parse_params("a=%41%4a");
    ASSERT_TRUE(fine);
    EXPECT_EQ(fine->at("a"), "AJ");
}

TEST(WebParams, ControlCharactersAreRefused)
{
    EXPECT_FALSE(parse_params("a=x%0Dy"));
    EXPECT_FALSE(parse_params("a=x%0Ay"));
    EXPECT_FALSE(parse_params("a=x%00y"));
    EXPECT_FALSE(parse_params("a%0A=1"));
    EXPECT_FALSE(parse_params(std::string_view("a=x\0y", 5)));
    EXPECT_FALSE(parse_params("a=x\ry"));
    EXPECT_FALSE(parse_params("a=x\ny"));
    EXPECT_TRUE(parse_params("a=x%09y")); // a tab is no line break
}

TEST(WebParams, SixtyFiveParametersAreRefusedSixtyFourAccepted)
{
    std::string encoded;
    for (int i = 0; i < 64; ++i)
        encoded += (encoded.empty() ? "" : "&") + std::string("p") + std::to_string(i) + "=v";
    const auto ok = parse_params(encoded);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->size(), 64U);
    EXPECT_FALSE(parse_params(encoded + "&p64=v"));
}

TEST(WebParams, AValueOverFourKibibytesIsRefused)
{
    EXPECT_TRUE(parse_params("a=" + std::string(4096, 'x')));
    EXPECT_FALSE(parse_params("a=" + std::string(4097, 'x')));
}

TEST(WebParams, EmptyPairsAreIgnored)
{
    const auto p = parse_params("&&a=1&&&b=2&");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->size(), 2U);
    EXPECT_EQ(p->at("a"), "1");
    EXPECT_EQ(p->at("b"), "2");
    const auto none = parse_params("&&&");
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    const auto empty = parse_params("");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
}

TEST(WebParams, FormDecode)
{
    EXPECT_EQ(form_decode("a+b%2Bc"), std::optional<std::string>("a b+c"));
    EXPECT_EQ(form_decode("%7e"), std::optional<std::string>("~"));
    EXPECT_EQ(form_decode("100%"), std::nullopt);
}

// ---- parse_target -------------------------------------------------------------------------

TEST(WebTarget, SplitsPathAndQuery)
{
    const auto t = parse_target("/authorize?client_id=app&scope=openid+email&state=a%26b");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->path, "/authorize");
    EXPECT_EQ(t->query.size(), 3U);
    EXPECT_EQ(t->query.at("client_id"), "app");
    EXPECT_EQ(t->query.at("scope"), "openid email");
    EXPECT_EQ(t->query.at("state"), "a&b");
}

TEST(WebTarget, APathWithoutQueryHasNoParameters)
{
    const auto t = parse_target("/jwks");
    ASSERT_TRUE(t);
    EXPECT_EQ(t->path, "/jwks");
    EXPECT_TRUE(t->query.empty());
    const auto q = parse_target("/jwks?");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->path, "/jwks");
    EXPECT_TRUE(q->query.empty());
}

TEST(WebTarget, ABadQueryFailsTheTarget)
{
    EXPECT_FALSE(parse_target("/authorize?a=1&a=2"));
    EXPECT_FALSE(parse_target("/authorize?a=%zz"));
    EXPECT_FALSE(parse_target("/authorize?a=%0D%0ASet-Cookie:x"));
}

// ---- cookie -------------------------------------------------------------------------------

TEST(WebCookie, FoundAmongOthers)
{
    const auto r = request_with(http::field::cookie, "theme=dark; lk_session=abc.DEF-1; lang=en");
    EXPECT_EQ(cookie(r, "lk_session"), std::optional<std::string>("abc.DEF-1"));
    EXPECT_EQ(cookie(r, "theme"), std::optional<std::string>("dark"));
    EXPECT_EQ(cookie(r, "lang"), std::optional<std::string>("en"));
}

TEST(WebCookie, FoundAloneAndFirstAndLast)
{
    EXPECT_EQ(cookie(request_with(http::field::cookie, "lk_session=1"), "lk_session"),
              std::optional<std::string>("1"));
    EXPECT_EQ(cookie(request_with(http::field::cookie, "lk_session=1;a=2"), "lk_session"),
              std::optional<std::string>("1"));
    EXPECT_EQ(cookie(request_with(http::field::cookie, "a=2;lk_session=1"), "lk_session"),
              std::optional<std::string>("1"));
}

TEST(WebCookie, AbsentIsNullopt)
{
    HttpRequest none{http::verb::get, "/", 11};
    EXPECT_EQ(cookie(none, "lk_session"), std::nullopt);
    // Names that merely contain or start with it are other cookies.
    const auto r =
        request_with(http::field::cookie, "xlk_session=1; lk_session_old=2; lk_sessio=3");
    EXPECT_EQ(cookie(r, "lk_session"), std::nullopt);
    // A pair without '=' is no cookie of that name.
    EXPECT_EQ(cookie(request_with(http::field::cookie, "lk_session"), "lk_session"),
              std::nullopt);
}

TEST(WebCookie, SentTwiceIsNullopt)
{
    EXPECT_EQ(cookie(request_with(http::field::cookie, "lk_session=a; lk_session=b"),
                     "lk_session"),
              std::nullopt);
    EXPECT_EQ(cookie(request_with(http::field::cookie, "lk_session=a; x=1; lk_session=a"),
                     "lk_session"),
              std::nullopt);
    // In two Cookie header fields.
    HttpRequest r{http::verb::get, "/", 11};
    r.insert(http::field::cookie, "x=1; lk_session=a");
    r.insert(http::field::cookie, "lk_session=b");
    EXPECT_EQ(cookie(r, "lk_session"), std::nullopt);
    EXPECT_EQ(cookie(r, "x"), std::optional<std::string>("1"));
}

TEST(WebCookie, OneInEachOfTwoFieldsIsFoundOnce)
{
    HttpRequest r{http::verb::get, "/", 11};
    r.insert(http::field::cookie, "x=1");
    r.insert(http::field::cookie, "lk_session=s");
    EXPECT_EQ(cookie(r, "lk_session"), std::optional<std::string>("s"));
}

// ---- basic_credentials / bearer_token -----------------------------------------------------

TEST(WebBasic, PlainUserAndPassword)
{
    const auto c = basic_credentials(basic_request("webapp:s3cr3t-_x"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "webapp");
    EXPECT_EQ(c->password, "s3cr3t-_x");
}

TEST(WebBasic, ThePasswordMayHoldAColon)
{
    const auto c = basic_credentials(basic_request("webapp:a:b"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "webapp");
    EXPECT_EQ(c->password, "a:b");
}

TEST(WebBasic, PercentEscapesAreDecoded)
{
    // RFC 6749 §2.3.1: client id and secret are form-encoded before base64.
    const auto c = basic_credentials(basic_request("my%3Aapp:p%25w%3Ad%2B"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "my:app");
    EXPECT_EQ(c->password, "p%w:d+");
}

TEST(WebBasic, PlusIsASpaceAsInFormEncoding)
{
    // application/x-www-form-urlencoded (RFC 6749 Appendix B) encodes a space as '+'.
    const auto c = basic_credentials(basic_request("my+app:pass+word"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->user, "my app");
    EXPECT_EQ(c->password, "pass word");
}

TEST(WebBasic, BadBase64IsRefused)
{
    EXPECT_FALSE(basic_credentials(request_with(http::field::authorization, "Basic !!!!")));
    EXPECT_FALSE(basic_credentials(request_with(http::field::authorization, "Basic a b")));
    EXPECT_FALSE(basic_credentials(request_with(http::field::authorization, "Basic ")));
    EXPECT_FALSE(basic_credentials(request_with(http::field::authorization, "Basic")));
}

TEST(WebBasic, NoColonIsRefused)
{
    EXPECT_FALSE(basic_credentials(basic_request("justauser")));
}

TEST(WebBasic, BadEscapesAndControlCharactersAreRefused)
{
    EXPECT_FALSE(basic_credentials(basic_request("app:%zz")));
    EXPECT_FALSE(basic_credentials(basic_request("app:a%0Ab")));
    EXPECT_FALSE(basic_credentials(basic_request("a%00pp:secret")));
}

TEST(WebBasic, OtherSchemesAndNoHeaderAreNotBasic)
{
    HttpRequest none{http::verb::get, "/", 11};
    EXPECT_FALSE(basic_credentials(none));
    EXPECT_FALSE(basic_credentials(request_with(http::field::authorization, "Bearer abc")));
    EXPECT_FALSE(basic_credentials(request_with(
        http::field::authorization, "Digest " + core::base64_encode("a:b", false, true))));
}

TEST(WebBearer, TheTokenOfABearerHeader)
{
    EXPECT_EQ(bearer_token(request_with(http::field::authorization, "Bearer eyJ.a-b_c.d")),
              std::optional<std::string>("eyJ.a-b_c.d"));
}

TEST(WebBearer, NoTokenOtherwise)
{
    HttpRequest none{http::verb::get, "/", 11};
    EXPECT_EQ(bearer_token(none), std::nullopt);
    EXPECT_EQ(bearer_token(request_with(http::field::authorization, "Bearer ")), std::nullopt);
    EXPECT_EQ(bearer_token(request_with(http::field::authorization, "Bearer")), std::nullopt);
    EXPECT_EQ(bearer_token(basic_request("a:b")), std::nullopt);
}

// ---- html_escape / with_params ------------------------------------------------------------

TEST(WebHtml, EscapesTheFiveSpecialCharacters)
{
    EXPECT_EQ(html_escape("<a href=\"x\" title='y'>Tom & Jerry</a>"),
              "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
    EXPECT_EQ(html_escape("plain text é"), "plain text é");
    EXPECT_EQ(html_escape(""), "");
    EXPECT_EQ(html_escape("&amp;"), "&amp;amp;");
}

TEST(WebWithParams, AppendsToAnExistingQuery)
{
    const std::string uri =
        with_params("https://app.example/cb?x=1", {{"code", "abc"}, {"state", "s"}});
    ASSERT_EQ(uri.rfind("https://app.example/cb?x=1&", 0), 0U) << uri;
    const auto p = parse_params(uri.substr(uri.find('?') + 1));
    ASSERT_TRUE(p) << uri;
    EXPECT_EQ(p->size(), 3U) << uri;
    EXPECT_EQ(p->at("x"), "1");
    EXPECT_EQ(p->at("code"), "abc");
    EXPECT_EQ(p->at("state"), "s");
}

TEST(WebWithParams, StartsAQueryWhenThereIsNone)
{
    const std::string uri = with_params("http://127.0.0.1:9000/cb", {{"code", "abc"}});
    EXPECT_EQ(uri, "http://127.0.0.1:9000/cb?code=abc");
}

TEST(WebWithParams, EncodesValuesSoThatTheyDecodeBackExactly)
{
    const std::string nasty = "a b&c=d/e?f#g%h\"<>";
    const std::string uri = with_params("https://app.example/cb", {{"state", nasty}});
    const auto q = uri.find('?');
    ASSERT_NE(q, std::string::npos) << uri;
    EXPECT_EQ(uri.find('#'), std::string::npos) << uri;
    EXPECT_EQ(uri.find(' '), std::string::npos) << uri;
    EXPECT_EQ(uri.find('"'), std::string::npos) << uri;
    EXPECT_EQ(uri.find('<'), std::string::npos) << uri;
    const auto p = parse_params(uri.substr(q + 1));
    ASSERT_TRUE(p) << uri;
    EXPECT_EQ(p->size(), 1U) << uri;
    EXPECT_EQ(p->at("state"), nasty) << uri;
}

TEST(WebWithParams, APlusInAValueSurvivesFormDecoding)
{
    // RFC 6749 §4.1.2 adds the parameters "using the application/x-www-form-urlencoded
    // format", where a literal '+' is a space: a '+' in a value (a base64 state) must be sent
    // as %2B for the client to get it back.
    const std::string uri = with_params("https://app.example/cb", {{"state", "ab+/cd=="}});
    const auto p = parse_params(uri.substr(uri.find('?') + 1));
    ASSERT_TRUE(p) << uri;
    EXPECT_EQ(p->at("state"), "ab+/cd==") << uri;
}

// ---- responses ----------------------------------------------------------------------------

TEST(WebResponse, HtmlCarriesAContentSecurityPolicyWithoutScript)
{
    const HttpRequest req{http::verb::get, "/login", 11};
    const auto r = html_response(req, http::status::ok, "<p>hi</p>");
    EXPECT_EQ(r.result(), http::status::ok);
    EXPECT_EQ(r.body(), "<p>hi</p>");
    EXPECT_EQ(header(r, http::field::content_type), "text/html; charset=utf-8");
    const std::string csp = header(r, "Content-Security-Policy");
    ASSERT_NE(csp, "<absent>");
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
    EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
    // No script source at all: script-src 'none', or a default-src 'none' that no script-src
    // widens.
    const bool script_none = csp.find("script-src 'none'") != std::string::npos;
    const bool default_none = csp.find("default-src 'none'") != std::string::npos &&
                              csp.find("script-src") == std::string::npos;
    EXPECT_TRUE(script_none || default_none) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
}

TEST(WebResponse, EveryResponseForbidsCachingAndFraming)
{
    const HttpRequest req{http::verb::get, "/x", 11};
    const HttpResponse all[] = {
        html_response(req, http::status::ok, "x"),
        json_response(req, http::status::ok, boost::json::object{{"a", 1}}),
        oauth_error(req, http::status::bad_request, "invalid_request", "why"),
        oauth_error(req, http::status::unauthorized, "invalid_client", "who"),
        redirect(req, "https://app.example/cb?code=1"),
        redirect(req, "/login?tx=1", http::status::see_other),
        text_response(req, http::status::not_found, "text/plain", "nope"),
    };
    for (const auto& r : all) {
        EXPECT_EQ(header(r, http::field::cache_control), "no-store") << r.result_int();
        EXPECT_EQ(header(r, "X-Frame-Options"), "DENY") << r.result_int();
        EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << r.result_int();
    }
}

TEST(WebResponse, RedirectSetsLocationAndStatus)
{
    const HttpRequest req{http::verb::get, "/authorize", 11};
    const auto found = redirect(req, "https://app.example/cb?code=1");
    EXPECT_EQ(found.result(), http::status::found);
    EXPECT_EQ(header(found, http::field::location), "https://app.example/cb?code=1");
    const auto other = redirect(req, "/login?tx=1", http::status::see_other);
    EXPECT_EQ(other.result(), http::status::see_other);
    EXPECT_EQ(header(other, http::field::location), "/login?tx=1");
}

TEST(WebResponse, OAuthErrorBody)
{
    const HttpRequest req{http::verb::post, "/token", 11};
    const auto r = oauth_error(req, http::status::bad_request, "invalid_grant", "the code <x>");
    EXPECT_EQ(r.result(), http::status::bad_request);
    EXPECT_EQ(header(r, http::field::content_type), "application/json");
    const auto body = boost::json::parse(r.body()).as_object();
    EXPECT_EQ(body.at("error").as_string(), "invalid_grant");
    EXPECT_EQ(body.at("error_description").as_string(), "the code <x>");
    EXPECT_EQ(header(r, http::field::www_authenticate), "<absent>");
    const auto unauthorized =
        oauth_error(req, http::status::unauthorized, "invalid_client", "client authentication");
    EXPECT_NE(header(unauthorized, http::field::www_authenticate).find("Basic"),
              std::string::npos);
}

TEST(WebResponse, JsonBodyAndLength)
{
    HttpRequest req{http::verb::get, "/x", 11};
    req.keep_alive(true);
    const auto r = json_response(req, http::status::ok, boost::json::object{{"k", "v"}});
    EXPECT_EQ(boost::json::parse(r.body()), (boost::json::value(boost::json::object{{"k", "v"}})));
    EXPECT_EQ(header(r, http::field::content_length), std::to_string(r.body().size()));
    EXPECT_TRUE(r.keep_alive());
}

} // namespace
} // namespace latchkey::oidc
