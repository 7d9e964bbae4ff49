#include <catch2/catch.hpp>

#include "base/result.hpp"

using husk::Error;
using husk::ErrorKind;
using husk::Result;

namespace {
Result<int> fails() { return Error::sys(ENOENT, "open {}", "/x"); }
Result<int> wraps() {
  int v = TRY_CTX(fails(), "load {}", "config");
  return v + 1;
}
Result<int> passes() {
  int v = TRY(Result<int>(41));
  return v + 1;
}
}  // namespace

TEST_CASE("error renders context outermost first, then op and strerror") {
  auto r = wraps();
  REQUIRE_FALSE(r);
  CHECK(r.error().message() == "load config: open /x: No such file or directory");
  CHECK(r.error().err() == ENOENT);
  CHECK(r.error().kind() == ErrorKind::Sys);
}

TEST_CASE("TRY yields the value on success") {
  auto r = passes();
  REQUIRE(r);
  CHECK(*r == 42);
}

TEST_CASE("errors without errno render without strerror") {
  auto e = Error::spec("process.cwd: must be an absolute path, got {}", "\"x\"");
  CHECK(e.message() == "process.cwd: must be an absolute path, got \"x\"");
  CHECK(e.kind() == ErrorKind::InvalidSpec);
}
