// The fuzz seed corpora (tests/fuzz/corpus) stay meaningful: every valid seed
// still decodes/verifies, every bad one is still refused, and together the
// frame seeds cover every frame type. Without this a protocol change could
// silently turn the seeds into noise the fuzzer starts from.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

#include "common/auth/jwt.hpp"
#include "common/protocol/codec.hpp"

namespace fs = std::filesystem;
namespace proto = chatsdk::proto;

namespace {

const fs::path kCorpus = fs::path(CHATSDK_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("fuzz corpus: frame seeds decode (or fail) as their names say") {
  std::set<std::string, std::less<>> client_types;
  std::set<std::string, std::less<>> server_types;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "frames")) {
    const std::string name = entry.path().filename().string();
    const std::string bytes = read_file(entry.path());
    CAPTURE(name);
    ++files;
    if (starts_with(name, "client_")) {
      const auto r = proto::decode_client(bytes);
      REQUIRE_MESSAGE(r.ok(), r.error().message);
      client_types.emplace(proto::type_name(*r));
      CHECK(proto::encode(*r).size() <= bytes.size() + 64);  // compact re-encoding
    } else if (starts_with(name, "server_")) {
      const auto r = proto::decode_server(bytes);
      REQUIRE_MESSAGE(r.ok(), r.error().message);
      server_types.emplace(proto::type_name(*r));
    } else if (starts_with(name, "batch_")) {
      const auto parts = proto::split_batch(bytes);
      CHECK(parts.size() >= 2);
      for (const auto part : parts) {
        CHECK((proto::decode_client(part).ok() || proto::decode_server(part).ok()));
      }
    } else {
      REQUIRE(starts_with(name, "bad_"));
      CHECK_FALSE(proto::decode_client(bytes).ok());
      CHECK_FALSE(proto::decode_server(bytes).ok());
    }
  }
  CHECK(files >= 40);
  for (const auto type : proto::client_frame_types()) {
    CAPTURE(type);
    CHECK(client_types.count(type) == 1);
  }
  for (const auto type : proto::server_frame_types()) {
    CAPTURE(type);
    CHECK(server_types.count(type) == 1);
  }
}

TEST_CASE("fuzz corpus: token seeds verify (or fail) as their names say") {
  // Must match the secret and clock in tests/fuzz/fuzz_token.cpp.
  constexpr std::string_view kSecret = "chatsdk-fuzz-secret";
  const chatsdk::auth::VerifyOptions opts{1'700'000'000, 30};
  int valid = 0;
  for (const auto& entry : fs::directory_iterator(kCorpus / "token")) {
    const std::string name = entry.path().filename().string();
    const std::string bytes = read_file(entry.path());
    CAPTURE(name);
    if (starts_with(name, "structured_")) {
      // "header\npayload", which the fuzzer signs itself.
      CHECK(bytes.find('\n') != std::string::npos);
      continue;
    }
    const auto r = chatsdk::auth::verify_hs256(bytes, kSecret, opts);
    if (starts_with(name, "valid_")) {
      CHECK_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
      ++valid;
    } else if (name == "expired") {
      CHECK(r.code() == chatsdk::Errc::token_expired);
    } else if (name == "not_yet_valid") {
      CHECK(r.code() == chatsdk::Errc::token_not_yet_valid);
    } else {
      CHECK(r.code() == chatsdk::Errc::auth_failed);
    }
  }
  CHECK(valid >= 3);
}
