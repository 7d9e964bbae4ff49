#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <ctime>
#include <string>

#include "spec/state_json.hpp"
#include "test_util.hpp"

using husk::spec::hook_state_json;
using husk::spec::oci_state_json;
using husk::spec::parse_container_state;
using husk::spec::to_json;
using husk::state::ContainerState;
using husk::state::Phase;

namespace {

ContainerState sample() {
  ContainerState st;
  st.oci_version = "1.3.0";
  st.id = "c1";
  st.phase = Phase::Running;
  st.pid = 4242;
  st.pid_start_time = 123456789012345ULL;
  st.bundle = "/srv/bundles/c1";
  st.rootfs = "/srv/bundles/c1/rootfs";
  st.created = "2025-01-02T03:04:05.123456789Z";
  st.owner = "";
  st.annotations = {{"org.example/key", "v\"al\n"}, {"a", ""}};
  st.cgroup = "v1:/husk-test/c1";
  st.systemd_cgroup = true;
  st.rootless = true;
  return st;
}

rapidjson::Document parse(const std::string& s) { return husk::test::parse_json_object(s); }

std::vector<std::string> keys(const rapidjson::Value& v) {
  std::vector<std::string> out;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) out.emplace_back(it->name.GetString());
  return out;
}

}  // namespace

TEST_CASE("oci_state_json: runc's state shape, 2-space indented") {
  ContainerState st = sample();
  st.annotations = {{"k", "v"}};
  const std::string out = oci_state_json(st, "paused");
  CHECK(out == R"({
  "ociVersion": "1.3.0",
  "id": "c1",
  "pid": 4242,
  "status": "paused",
  "bundle": "/srv/bundles/c1",
  "rootfs": "/srv/bundles/c1/rootfs",
  "created": "2025-01-02T03:04:05.123456789Z",
  "annotations": {
    "k": "v"
  },
  "owner": ""
})");
}

TEST_CASE("oci_state_json_compact: the same shape on one line (list --format json)") {
  ContainerState st = sample();
  st.annotations = {{"k", "v"}};
  st.owner = "root";
  CHECK(husk::spec::oci_state_json_compact(st, "running") ==
        R"({"ociVersion":"1.3.0","id":"c1","pid":4242,"status":"running",)"
        R"("bundle":"/srv/bundles/c1","rootfs":"/srv/bundles/c1/rootfs",)"
        R"("created":"2025-01-02T03:04:05.123456789Z","annotations":{"k":"v"},"owner":"root"})");
}

TEST_CASE("oci_state_json: annotations omitted when empty, pid printed as given") {
  ContainerState st = sample();
  st.annotations.clear();
  st.pid = 0;
  auto d = parse(oci_state_json(st, "stopped"));
  CHECK(keys(d) == std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                                            "created", "owner"});
  CHECK(d["pid"].GetInt() == 0);
  CHECK(std::string(d["status"].GetString()) == "stopped");
}

TEST_CASE("oci_state_json escapes strings") {
  auto d = parse(oci_state_json(sample(), "running"));
  CHECK(std::string(d["annotations"]["org.example/key"].GetString()) == "v\"al\n");
}

TEST_CASE("hook_state_json: the OCI state, compact") {
  ContainerState st = sample();
  st.annotations = {{"k", "v"}};
  CHECK(hook_state_json(st, "creating") ==
        R"({"ociVersion":"1.3.0","id":"c1","status":"creating","pid":4242,)"
        R"("bundle":"/srv/bundles/c1","annotations":{"k":"v"}})");
  st.pid = 0;
  st.annotations.clear();
  CHECK(hook_state_json(st, "stopped") ==
        R"({"ociVersion":"1.3.0","id":"c1","status":"stopped","bundle":"/srv/bundles/c1"})");
}

TEST_CASE("container_process_state_json: config-linux.md's container process state") {
  ContainerState st = sample();
  auto d = parse(husk::spec::container_process_state_json(st, "creating", 777, "MKNOD=/dev/null"));
  CHECK(d.MemberCount() == 5);
  CHECK(std::string(d["ociVersion"].GetString()) == "1.3.0");
  REQUIRE(d["fds"].IsArray());
  REQUIRE(d["fds"].Size() == 1);
  CHECK(std::string(d["fds"][0].GetString()) == "seccompFd");
  CHECK(d["pid"].GetInt() == 777);
  CHECK(std::string(d["metadata"].GetString()) == "MKNOD=/dev/null");
  // The state is the OCI state hooks get (runtime.md "State").
  const auto& s = d["state"];
  CHECK(s.MemberCount() == 6);
  CHECK(std::string(s["status"].GetString()) == "creating");
  CHECK(s["pid"].GetInt() == 4242);
  CHECK(std::string(s["id"].GetString()) == "c1");
  CHECK(std::string(s["bundle"].GetString()) == "/srv/bundles/c1");
  CHECK(std::string(s["annotations"]["org.example/key"].GetString()) == "v\"al\n");
  SECTION("metadata is left out when unset") {
    auto e = parse(husk::spec::container_process_state_json(st, "running", 9, std::nullopt));
    CHECK_FALSE(e.HasMember("metadata"));
    CHECK(std::string(e["state"]["status"].GetString()) == "running");
  }
}

TEST_CASE("to_json / parse_container_state round-trip every field") {
  for (Phase phase : {Phase::Creating, Phase::Created, Phase::Running, Phase::Stopped}) {
    ContainerState st = sample();
    st.phase = phase;
    auto back = parse_container_state(to_json(st));
    REQUIRE(back.has_value());
    CHECK(back->oci_version == st.oci_version);
    CHECK(back->id == st.id);
    CHECK(back->phase == phase);
    CHECK(back->pid == st.pid);
    CHECK(back->pid_start_time == st.pid_start_time);
    CHECK(back->bundle == st.bundle);
    CHECK(back->rootfs == st.rootfs);
    CHECK(back->created == st.created);
    CHECK(back->owner == st.owner);
    CHECK(back->annotations == st.annotations);
    CHECK(back->cgroup == st.cgroup);
    CHECK(back->systemd_cgroup == st.systemd_cgroup);
    CHECK(back->rootless == st.rootless);
  }
  ContainerState empty;
  empty.id = "x";
  auto back = parse_container_state(to_json(empty));
  REQUIRE(back.has_value());
  CHECK(back->phase == Phase::Creating);
  CHECK(back->pid == 0);
  CHECK_FALSE(back->rootless);
}

TEST_CASE("to_json records the phase by name and a format version") {
  ContainerState st = sample();
  st.phase = Phase::Created;
  auto d = parse(to_json(st));
  CHECK(d["huskStateVersion"].GetInt() == husk::spec::kStateRecordVersion);
  CHECK(std::string(d["phase"].GetString()) == "created");
  CHECK(d["pidStartTime"].GetUint64() == 123456789012345ULL);
  CHECK(husk::spec::phase_name(Phase::Stopped) == "stopped");
}

TEST_CASE("parse_container_state rejects damaged records") {
  auto err = [](std::string_view json) {
    auto r = parse_container_state(json);
    REQUIRE_FALSE(r.has_value());
    return r.error().message();
  };
  CHECK(err("") == "invalid JSON at offset 0 (line 1, column 1): The document is empty.");
  CHECK(err(R"({"huskStateVersion": 1, "id": "c"})") == "phase: required");
  CHECK(err(R"({"id": "c"})") == "huskStateVersion: required");
  CHECK(err(R"({"huskStateVersion": 2, "id": "c", "phase": "created", "bundle": "/b"})") ==
        "huskStateVersion: unsupported record version 2 (expected 1)");
  CHECK(err(R"({"huskStateVersion": 1, "id": "c", "phase": "paused", "bundle": "/b"})") ==
        "phase: unknown phase \"paused\"");
  CHECK(err(R"({"huskStateVersion": 1, "id": "c", "phase": "created", "bundle": "/b",
               "pid": -5})") == "pid: must be >= 0, got -5");
  CHECK(err(R"({"huskStateVersion": 1, "id": "c", "phase": "created", "bundle": "/b",
               "pidStartTime": "1"})") ==
        "pidStartTime: expected an unsigned 64-bit integer, got \"1\"");
  CHECK(err(R"({"huskStateVersion": 1, "id": "c", "phase": "created"})") == "bundle: required");
}

TEST_CASE("rfc3339_utc formats like gmtime_r + strftime, with nanoseconds") {
  CHECK(husk::spec::rfc3339_utc(0, 0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(husk::spec::rfc3339_utc(951782400, 5) == "2000-02-29T00:00:00.000000005Z");  // leap day
  CHECK(husk::spec::rfc3339_utc(4102444799, 999999999) == "2099-12-31T23:59:59.999999999Z");
  // Against the C library over a spread of instants, leap years included.
  for (long long t = 0; t < 4102444800LL; t += 86400LL * 37 + 3601) {
    time_t tt = static_cast<time_t>(t);
    tm utc{};
    ::gmtime_r(&tt, &utc);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    REQUIRE(husk::spec::rfc3339_utc(t, 42) == std::string(buf) + ".000000042Z");
  }
}
