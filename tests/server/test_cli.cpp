// The chatsdk-server binary's command line: token subcommand, usage errors.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <string>

#include "common/auth/jwt.hpp"

namespace {

struct Run {
  int status = -1;
  std::string out;  // stdout and stderr
};

Run run(const std::string& args, const std::string& env = "") {
  const std::string cmd = env + " " CHATSDK_SERVER_BINARY " " + args + " 2>&1";
  Run r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p))
    r.out += buf.data();
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("cli: token prints a JWT that verifies with the secret") {
  const std::string secret = "cli-test-secret-0123456789";
  auto r = run("token --user alice --ttl 1h --secret " + secret);
  REQUIRE(r.status == 0);
  const std::string token = trimmed(r.out);
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  auto claims = chatsdk::auth::verify_hs256(token, secret, {.now_s = now, .leeway_s = 30});
  REQUIRE_MESSAGE(claims.ok(), token);
  CHECK(claims->sub == "alice");
  CHECK(claims->exp >= now + 3600 - 5);
  CHECK(claims->exp <= now + 3600 + 5);
  CHECK_FALSE(chatsdk::auth::verify_hs256(token, "another-secret-0123456789", {.now_s = now}).ok());
}

TEST_CASE("cli: token takes the secret from the environment") {
  auto r = run("token --user bob --ttl 90", "CHATSDK_JWT_SECRET=env-secret-0123456789");
  REQUIRE(r.status == 0);
  auto claims =
      chatsdk::auth::verify_hs256(trimmed(r.out), "env-secret-0123456789",
                                  {.now_s = static_cast<std::int64_t>(std::time(nullptr))});
  REQUIRE(claims.ok());
  CHECK(claims->sub == "bob");
}

TEST_CASE("cli: serving without a secret refuses to start with a clear message") {
  auto r =
      run("--listen 127.0.0.1:1 --data /tmp/chatsdk-cli-nosecret", "env -u CHATSDK_JWT_SECRET");
  CHECK(r.status == 2);
  CHECK(r.out.find("no JWT secret") != std::string::npos);
}

TEST_CASE("cli: usage errors exit 2, --help exits 0") {
  auto bad = run("--bogus 1");
  CHECK(bad.status == 2);
  CHECK(bad.out.find("unknown option --bogus") != std::string::npos);
  auto no_user = run("token --secret x");
  CHECK(no_user.status == 2);
  auto help = run("--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("chatsdk-server token --user ID") != std::string::npos);
}
