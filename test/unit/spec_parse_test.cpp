#include <catch2/catch.hpp>
#include <string>

#include "spec/parse.hpp"

using husk::ErrorKind;
using husk::spec::Config;
using husk::spec::NamespaceType;
using husk::spec::parse_config;
using husk::spec::parse_resources;

namespace {

// Every field of a runtime-spec v1.3.0 Linux config, each with a distinct value.
constexpr const char* kFull = R"json({
  "ociVersion": "1.3.0",
  "root": {"path": "rootfs", "readonly": true},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/data", "type": "bind", "source": "/vol", "options": ["rbind", "ro", "idmap"],
     "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
     "gidMappings": [{"containerID": 0, "hostID": 200000, "size": 1000}]}
  ],
  "process": {
    "terminal": true,
    "consoleSize": {"height": 25, "width": 80},
    "user": {"uid": 1000, "gid": 1001, "umask": 18, "additionalGids": [5, 6], "username": "u"},
    "args": ["sh", "-c", "true"],
    "commandLine": "cmd.exe",
    "env": ["PATH=/bin", "TERM=xterm"],
    "cwd": "/work",
    "capabilities": {
      "bounding": ["CAP_KILL"], "effective": ["CAP_CHOWN"], "inheritable": [],
      "permitted": ["CAP_KILL", "CAP_CHOWN"], "ambient": ["CAP_NET_RAW"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}],
    "noNewPrivileges": true,
    "apparmorProfile": "prof",
    "oomScoreAdj": -500,
    "scheduler": {"policy": "SCHED_DEADLINE", "nice": -3, "priority": 0,
                  "flags": ["SCHED_FLAG_RESET_ON_FORK"], "runtime": 10, "deadline": 20, "period": 30},
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4},
    "execCPUAffinity": {"initial": "0-1", "final": "2"}
  },
  "hostname": "box",
  "domainname": "example.org",
  "hooks": {
    "prestart": [{"path": "/bin/pre"}],
    "createRuntime": [{"path": "/bin/cr", "args": ["cr", "x"], "env": ["A=1"], "timeout": 5}],
    "createContainer": [{"path": "/bin/cc"}],
    "startContainer": [{"path": "/bin/sc"}],
    "poststart": [{"path": "/bin/ps1"}, {"path": "/bin/ps2"}],
    "poststop": [{"path": "/bin/stop"}]
  },
  "annotations": {"org.example.a": "1", "b": "two"},
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network", "path": "/var/run/netns/x"},
                   {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"},
                   {"type": "cgroup"}, {"type": "time"}],
    "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": 1001, "size": 2}],
    "timeOffsets": {"monotonic": {"secs": -7, "nanosecs": 9}, "boottime": {"secs": 86400}},
    "devices": [{"type": "c", "path": "/dev/fuse", "major": 10, "minor": 229, "fileMode": 438,
                 "uid": 3, "gid": 4},
                {"type": "b", "path": "/dev/sda", "major": 8}],
    "netDevices": {"eth1": {"name": "ctr0"}, "eth2": {}},
    "cgroupsPath": "/husk-test/c1",
    "resources": {
      "devices": [{"allow": false, "access": "rwm"},
                  {"allow": true, "type": "c", "major": 1, "minor": -1, "access": "rw"}],
      "memory": {"limit": 536870912, "reservation": 1024, "swap": 1073741824, "kernel": -1,
                 "kernelTCP": 0, "swappiness": 60, "disableOOMKiller": true, "useHierarchy": false,
                 "checkBeforeUpdate": true},
      "cpu": {"shares": 1024, "quota": 100000, "burst": 5000, "period": 100000,
              "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0",
              "idle": 1},
      "blockIO": {"weight": 500, "leafWeight": 300,
                  "weightDevice": [{"major": 8, "minor": 0, "weight": 200, "leafWeight": 100}],
                  "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1}],
                  "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2}],
                  "throttleReadIOPSDevice": [{"major": 8, "minor": 32, "rate": 3}],
                  "throttleWriteIOPSDevice": [{"major": 8, "minor": 48, "rate": 4}]},
      "hugepageLimits": [{"pageSize": "2MB", "limit": 9223372036854772000}],
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
      "pids": {"limit": 0},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "1G", "io.max": "8:0 rbps=1"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38,
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerPath": "/run/agent.sock",
      "listenerMetadata": "meta",
      "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                   {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                    "args": [{"index": 0, "value": 8, "valueTwo": 9, "op": "SCMP_CMP_EQ"}]}]
    },
    "sysctl": {"net.ipv4.ip_forward": "1"},
    "maskedPaths": ["/proc/kcore"],
    "readonlyPaths": ["/proc/sys"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f", "memBwSchema": "MB:0=20",
                 "schemata": ["L2:0=ff"], "enableMonitoring": true},
    "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0-1", "flags": ["MPOL_F_STATIC_NODES"]},
    "personality": {"domain": "LINUX32", "flags": []}
  }
})json";

std::string error_of(std::string_view json) {
  auto r = parse_config(json);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().kind() == ErrorKind::InvalidSpec);
  return r.error().message();
}

// A minimal valid document with `extra` spliced into the top-level object.
std::string doc(std::string_view extra) {
  return std::string(R"({"ociVersion": "1.0.2")") + (extra.empty() ? "" : ", ") +
         std::string(extra) + "}";
}

}  // namespace

TEST_CASE("parse_config fills the top level, root, mounts and hooks") {
  auto r = parse_config(kFull);
  REQUIRE(r.has_value());
  const Config& c = *r;
  CHECK(c.oci_version == "1.3.0");
  REQUIRE(c.root);
  CHECK(c.root->path == "rootfs");
  CHECK(c.root->readonly);
  REQUIRE(c.mounts.size() == 2);
  CHECK(c.mounts[0].destination == "/proc");
  CHECK(c.mounts[0].type == "proc");
  CHECK(c.mounts[0].options.empty());
  CHECK(c.mounts[1].source == "/vol");
  CHECK(c.mounts[1].options == std::vector<std::string>{"rbind", "ro", "idmap"});
  REQUIRE(c.mounts[1].uid_mappings.size() == 1);
  CHECK(c.mounts[1].uid_mappings[0].host_id == 100000);
  CHECK(c.mounts[1].uid_mappings[0].size == 65536);
  CHECK(c.mounts[1].gid_mappings[0].host_id == 200000);
  CHECK(c.hostname == "box");
  CHECK(c.domainname == "example.org");
  CHECK(c.annotations == std::map<std::string, std::string>{{"org.example.a", "1"}, {"b", "two"}});
  REQUIRE(c.hooks);
  CHECK(c.hooks->prestart.at(0).path == "/bin/pre");
  CHECK(c.hooks->create_runtime.at(0).args == std::vector<std::string>{"cr", "x"});
  CHECK(c.hooks->create_runtime.at(0).env == std::vector<std::string>{"A=1"});
  CHECK(c.hooks->create_runtime.at(0).timeout == 5);
  CHECK_FALSE(c.hooks->prestart.at(0).timeout);
  CHECK(c.hooks->create_container.at(0).path == "/bin/cc");
  CHECK(c.hooks->start_container.at(0).path == "/bin/sc");
  CHECK(c.hooks->poststart.size() == 2);
  CHECK(c.hooks->poststop.at(0).path == "/bin/stop");
}

TEST_CASE("parse_config fills process") {
  auto r = parse_config(kFull);
  REQUIRE(r.has_value());
  REQUIRE(r->process);
  const auto& p = *r->process;
  CHECK(p.terminal);
  REQUIRE(p.console_size);
  CHECK(p.console_size->height == 25);
  CHECK(p.console_size->width == 80);
  CHECK(p.user.uid == 1000);
  CHECK(p.user.gid == 1001);
  CHECK(p.user.umask == 18U);
  CHECK(p.user.additional_gids == std::vector<uint32_t>{5, 6});
  CHECK(p.user.username == "u");
  CHECK(p.args == std::vector<std::string>{"sh", "-c", "true"});
  CHECK(p.command_line == "cmd.exe");
  CHECK(p.env == std::vector<std::string>{"PATH=/bin", "TERM=xterm"});
  CHECK(p.cwd == "/work");
  REQUIRE(p.capabilities);
  CHECK(p.capabilities->bounding == std::vector<std::string>{"CAP_KILL"});
  CHECK(p.capabilities->effective == std::vector<std::string>{"CAP_CHOWN"});
  CHECK(p.capabilities->inheritable.empty());
  CHECK(p.capabilities->permitted.size() == 2);
  CHECK(p.capabilities->ambient == std::vector<std::string>{"CAP_NET_RAW"});
  REQUIRE(p.rlimits.size() == 1);
  CHECK(p.rlimits[0].type == "RLIMIT_NOFILE");
  CHECK(p.rlimits[0].hard == 4096);
  CHECK(p.rlimits[0].soft == 1024);
  CHECK(p.no_new_privileges);
  CHECK(p.apparmor_profile == "prof");
  CHECK(p.oom_score_adj == -500);
  REQUIRE(p.scheduler);
  CHECK(p.scheduler->policy == "SCHED_DEADLINE");
  CHECK(p.scheduler->nice == -3);
  CHECK(p.scheduler->priority == 0);
  CHECK(p.scheduler->flags == std::vector<std::string>{"SCHED_FLAG_RESET_ON_FORK"});
  CHECK(p.scheduler->runtime == 10U);
  CHECK(p.scheduler->deadline == 20U);
  CHECK(p.scheduler->period == 30U);
  CHECK(p.selinux_label == "system_u:system_r:container_t:s0");
  REQUIRE(p.io_priority);
  CHECK(p.io_priority->io_class == "IOPRIO_CLASS_BE");
  CHECK(p.io_priority->priority == 4);
  REQUIRE(p.exec_cpu_affinity);
  CHECK(p.exec_cpu_affinity->initial == "0-1");
  CHECK(p.exec_cpu_affinity->final_ == "2");
}

TEST_CASE("parse_config fills linux namespaces, mappings, devices and the rest") {
  auto r = parse_config(kFull);
  REQUIRE(r.has_value());
  REQUIRE(r->linux);
  const auto& l = *r->linux;
  REQUIRE(l.namespaces.size() == 8);
  CHECK(l.namespaces[0].type == NamespaceType::Pid);
  CHECK(l.namespaces[1].type == NamespaceType::Network);
  CHECK(l.namespaces[1].path == "/var/run/netns/x");
  CHECK_FALSE(l.namespaces[0].path);
  CHECK(l.namespaces[7].type == NamespaceType::Time);
  CHECK(l.uid_mappings.at(0).host_id == 1000);
  CHECK(l.gid_mappings.at(0).size == 2);
  CHECK(l.time_offsets.at("monotonic").secs == -7);
  CHECK(l.time_offsets.at("monotonic").nanosecs == 9);
  CHECK(l.time_offsets.at("boottime").secs == 86400);
  REQUIRE(l.devices.size() == 2);
  CHECK(l.devices[0].major == 10);
  CHECK(l.devices[0].minor == 229);
  CHECK(l.devices[0].file_mode == 438U);
  CHECK(l.devices[0].uid == 3U);
  CHECK(l.devices[0].gid == 4U);
  CHECK(l.devices[1].minor == 0);  // omitted by Go's omitempty
  CHECK_FALSE(l.devices[1].file_mode);
  CHECK(l.net_devices.at("eth1").name == "ctr0");
  CHECK_FALSE(l.net_devices.at("eth2").name);
  CHECK(l.cgroups_path == "/husk-test/c1");
  CHECK(l.rootfs_propagation == "rslave");
  CHECK(l.sysctl.at("net.ipv4.ip_forward") == "1");
  CHECK(l.masked_paths == std::vector<std::string>{"/proc/kcore"});
  CHECK(l.readonly_paths == std::vector<std::string>{"/proc/sys"});
  CHECK(l.mount_label == "system_u:object_r:container_file_t:s0");
  REQUIRE(l.intel_rdt);
  CHECK(l.intel_rdt->clos_id == "guaranteed");
  CHECK(l.intel_rdt->l3_cache_schema == "L3:0=7f");
  CHECK(l.intel_rdt->mem_bw_schema == "MB:0=20");
  CHECK(l.intel_rdt->schemata == std::vector<std::string>{"L2:0=ff"});
  CHECK(l.intel_rdt->enable_monitoring == true);
  REQUIRE(l.memory_policy);
  CHECK(l.memory_policy->mode == "MPOL_BIND");
  CHECK(l.memory_policy->nodes == "0-1");
  CHECK(l.memory_policy->flags == std::vector<std::string>{"MPOL_F_STATIC_NODES"});
  REQUIRE(l.personality);
  CHECK(l.personality->domain == "LINUX32");
}

TEST_CASE("parse_config fills linux.resources") {
  auto r = parse_config(kFull);
  REQUIRE(r.has_value());
  REQUIRE(r->linux->resources);
  const auto& res = *r->linux->resources;
  REQUIRE(res.devices.size() == 2);
  CHECK_FALSE(res.devices[0].allow);
  CHECK_FALSE(res.devices[0].type);
  CHECK(res.devices[0].access == "rwm");
  CHECK(res.devices[1].minor == -1);
  REQUIRE(res.memory);
  CHECK(res.memory->limit == 536870912);
  CHECK(res.memory->reservation == 1024);
  CHECK(res.memory->swap == 1073741824);
  CHECK(res.memory->kernel == -1);
  CHECK(res.memory->kernel_tcp == 0);
  CHECK(res.memory->swappiness == 60U);
  CHECK(res.memory->disable_oom_killer == true);
  CHECK(res.memory->use_hierarchy == false);
  CHECK(res.memory->check_before_update == true);
  REQUIRE(res.cpu);
  CHECK(res.cpu->shares == 1024U);
  CHECK(res.cpu->quota == 100000);
  CHECK(res.cpu->burst == 5000U);
  CHECK(res.cpu->period == 100000U);
  CHECK(res.cpu->realtime_runtime == 950000);
  CHECK(res.cpu->realtime_period == 1000000U);
  CHECK(res.cpu->cpus == "0-1");
  CHECK(res.cpu->mems == "0");
  CHECK(res.cpu->idle == 1);
  REQUIRE(res.block_io);
  CHECK(res.block_io->weight == 500);
  CHECK(res.block_io->leaf_weight == 300);
  CHECK(res.block_io->weight_device.at(0).leaf_weight == 100);
  CHECK(res.block_io->throttle_read_bps_device.at(0).rate == 1);
  CHECK(res.block_io->throttle_write_bps_device.at(0).minor == 16);
  CHECK(res.block_io->throttle_read_iops_device.at(0).rate == 3);
  CHECK(res.block_io->throttle_write_iops_device.at(0).rate == 4);
  CHECK(res.hugepage_limits.at(0).page_size == "2MB");
  CHECK(res.hugepage_limits.at(0).limit == 9223372036854772000ULL);
  REQUIRE(res.network);
  CHECK(res.network->class_id == 1048577U);
  CHECK(res.network->priorities.at(0).name == "eth0");
  REQUIRE(res.pids);
  CHECK(res.pids->limit == 0);  // a real limit since 1.3.0
  CHECK(res.rdma.at("mlx5_1").hca_handles == 3U);
  CHECK(res.rdma.at("mlx5_1").hca_objects == 10000U);
  CHECK(res.unified.at("io.max") == "8:0 rbps=1");
}

TEST_CASE("parse_config fills linux.seccomp") {
  auto r = parse_config(kFull);
  REQUIRE(r.has_value());
  REQUIRE(r->linux->seccomp);
  const auto& s = *r->linux->seccomp;
  CHECK(s.default_action == "SCMP_ACT_ERRNO");
  CHECK(s.default_errno_ret == 38U);
  CHECK(s.architectures == std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"});
  CHECK(s.flags == std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"});
  CHECK(s.listener_path == "/run/agent.sock");
  CHECK(s.listener_metadata == "meta");
  REQUIRE(s.syscalls.size() == 2);
  CHECK(s.syscalls[0].names == std::vector<std::string>{"read", "write"});
  CHECK_FALSE(s.syscalls[0].errno_ret);
  CHECK(s.syscalls[1].errno_ret == 1U);
  REQUIRE(s.syscalls[1].args.size() == 1);
  CHECK(s.syscalls[1].args[0].value == 8);
  CHECK(s.syscalls[1].args[0].value_two == 9);
  CHECK(s.syscalls[1].args[0].op == "SCMP_CMP_EQ");
}

TEST_CASE("parse_config: absent optional sections stay unset") {
  auto r = parse_config(doc(""));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->root);
  CHECK_FALSE(r->process);
  CHECK_FALSE(r->linux);
  CHECK_FALSE(r->hooks);
  CHECK_FALSE(r->hostname);
  CHECK(r->mounts.empty());
}

TEST_CASE("parse_config: null is treated as absent, as Go does") {
  auto r = parse_config(doc(R"("mounts": null, "process": {"args": ["sh"], "cwd": "/",
      "capabilities": null, "oomScoreAdj": null}, "linux": {"resources": {"pids": null}})"));
  REQUIRE(r.has_value());
  CHECK(r->mounts.empty());
  CHECK_FALSE(r->process->capabilities);
  CHECK_FALSE(r->process->oom_score_adj);
  CHECK_FALSE(r->linux->resources->pids);
}

TEST_CASE("parse_config: unknown fields are ignored at every level") {
  auto r = parse_config(doc(R"("future": {"x": 1}, "process": {"args": ["sh"], "cwd": "/",
      "newThing": [1, 2]}, "linux": {"resources": {"memory": {"limit": 5, "extra": "y"}}})"));
  REQUIRE(r.has_value());
  CHECK(r->linux->resources->memory->limit == 5);
}

TEST_CASE("parse_config: a repeated key keeps its last value, as Go does") {
  auto r = parse_config(doc(R"("hostname": "a", "hostname": "b")"));
  REQUIRE(r.has_value());
  CHECK(r->hostname == "b");
}

TEST_CASE("parse_config: empty optional strings that mean 'unset' are dropped") {
  auto r = parse_config(doc(R"("process": {"args": ["sh"], "cwd": "/", "apparmorProfile": "",
      "selinuxLabel": ""}, "linux": {"namespaces": [{"type": "pid", "path": ""}],
      "rootfsPropagation": "", "mountLabel": "",
      "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": ""}})"));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->process->apparmor_profile);
  CHECK_FALSE(r->process->selinux_label);
  CHECK_FALSE(r->linux->namespaces[0].path);
  CHECK_FALSE(r->linux->rootfs_propagation);
  CHECK_FALSE(r->linux->mount_label);
  CHECK_FALSE(r->linux->seccomp->listener_path);
}

TEST_CASE("parse_config: pids without a limit sets nothing") {
  auto r = parse_config(doc(R"("linux": {"resources": {"pids": {}}})"));
  REQUIRE(r.has_value());
  CHECK_FALSE(r->linux->resources->pids);
  auto neg = parse_config(doc(R"("linux": {"resources": {"pids": {"limit": -1}}})"));
  REQUIRE(neg.has_value());
  CHECK(neg->linux->resources->pids->limit == -1);
}

TEST_CASE("parse_config: malformed JSON reports the offset, line and column") {
  CHECK(error_of("{\"ociVersion\": \"1.0.0\",\n  \"root\" {}}") ==
        "invalid JSON at offset 33 (line 2, column 10): Missing a colon after a name of object "
        "member.");
  CHECK(error_of("") == "invalid JSON at offset 0 (line 1, column 1): The document is empty.");
  CHECK(error_of(R"({"ociVersion": "1.0.0",})").starts_with("invalid JSON at offset 23"));
  CHECK(error_of("{\"ociVersion\": \"1.0.0\"} x").starts_with("invalid JSON at offset 24"));
}

TEST_CASE("parse_config: deep nesting is an error, not a crash") {
  std::string deep = R"({"ociVersion": "1.0.0", "x": )" + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  auto r = parse_config(deep);
  CHECK(r.has_value());  // unknown field, parsed iteratively, ignored
}

TEST_CASE("parse_config: the top level must be an object") {
  CHECK(error_of("[]") == "document: expected an object, got an array");
  CHECK(error_of("\"x\"") == "document: expected an object, got \"x\"");
}

TEST_CASE("parse_config: required fields are named by their path") {
  CHECK(error_of("{}") == "ociVersion: required");
  CHECK(error_of(doc(R"("root": {})")) == "root.path: required");
  CHECK(
      error_of(doc(R"("mounts": [{"destination": "/a"}, {"destination": "/b"}, {"type": "x"}])")) ==
      "mounts[2].destination: required");
  CHECK(error_of(doc(R"("process": {"args": ["sh"]})")) == "process.cwd: required");
  CHECK(error_of(doc(R"("process": {"cwd": "/"})")) == "process.args: required");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "user": {"uid": 1}})")) ==
        "process.user.gid: required");
  CHECK(error_of(doc(R"("hooks": {"poststop": [{"path": "/a"}, {"args": []}]})")) ==
        "hooks.poststop[1].path: required");
  CHECK(error_of(doc(R"("linux": {"namespaces": [{"path": "/x"}]})")) ==
        "linux.namespaces[0].type: required");
  CHECK(error_of(doc(R"("linux": {"uidMappings": [{"containerID": 0, "hostID": 0}]})")) ==
        "linux.uidMappings[0].size: required");
  CHECK(error_of(doc(R"("linux": {"resources": {"devices": [{"access": "rwm"}]}})")) ==
        "linux.resources.devices[0].allow: required");
  CHECK(error_of(doc(R"("linux": {"seccomp": {"syscalls": []}})")) ==
        "linux.seccomp.defaultAction: required");
  CHECK(error_of(doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0,
      "op": "SCMP_CMP_EQ"}]}]}})")) == "linux.seccomp.syscalls[0].args[0].value: required");
  CHECK(error_of(doc(R"("linux": {"devices": [{"type": "c"}]})")) ==
        "linux.devices[0].path: required");
  CHECK(error_of(doc(R"("linux": {"resources": {"hugepageLimits": [{"limit": 1}]}})")) ==
        "linux.resources.hugepageLimits[0].pageSize: required");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "rlimits": [{"type": "RLIMIT_AS",
      "hard": 1}]})")) == "process.rlimits[0].soft: required");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "ioPriority": {"priority": 1}})")) ==
        "process.ioPriority.class: required");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "scheduler": {}})")) ==
        "process.scheduler.policy: required");
  CHECK(error_of(doc(R"("linux": {"memoryPolicy": {"nodes": "0"}})")) ==
        "linux.memoryPolicy.mode: required");
  CHECK(error_of(doc(R"("linux": {"personality": {}})")) == "linux.personality.domain: required");
  CHECK(error_of(doc(R"("linux": {"resources": {"blockIO": {"throttleReadBpsDevice":
      [{"major": 8, "minor": 0}]}}})")) ==
        "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required");
}

TEST_CASE("parse_config: integer ranges and types") {
  const std::string proc = R"("process": {"cwd": "/", "args": ["a"], "user": )";
  CHECK(error_of(doc(proc + R"({"uid": -1, "gid": 0}})")) ==
        "process.user.uid: expected an unsigned 32-bit integer, got -1");
  CHECK(error_of(doc(proc + R"({"uid": 4294967296, "gid": 0}})")) ==
        "process.user.uid: expected an unsigned 32-bit integer, got 4294967296");
  CHECK(error_of(doc(proc + R"({"uid": 1.0, "gid": 0}})")) ==
        "process.user.uid: expected an unsigned 32-bit integer, got 1.0");
  CHECK(error_of(doc(proc + R"({"uid": "0", "gid": 0}})")) ==
        "process.user.uid: expected an unsigned 32-bit integer, got \"0\"");
  CHECK(error_of(doc(proc + R"({"uid": 0, "gid": 0, "additionalGids": [1, true]}})")) ==
        "process.user.additionalGids[1]: expected an unsigned 32-bit integer, got true");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "oomScoreAdj": 2147483648})")) ==
        "process.oomScoreAdj: expected a 32-bit integer, got 2147483648");
  CHECK(error_of(doc(R"("linux": {"resources": {"memory": {"limit": 9223372036854775808}}})")) ==
        "linux.resources.memory.limit: expected a 64-bit integer, got 9223372036854775808");
  CHECK(error_of(doc(R"("linux": {"resources": {"blockIO": {"weight": 65536}}})")) ==
        "linux.resources.blockIO.weight: expected an unsigned 16-bit integer, got 65536");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a"], "rlimits": [{"type": "RLIMIT_AS",
      "hard": 18446744073709551616, "soft": 1}]})")) ==
        "process.rlimits[0].hard: expected an unsigned 64-bit integer, got 1.8446744073709552e+19");
  CHECK(error_of(doc(R"("linux": {"resources": {"memory": {"swappiness": -1}}})")) ==
        "linux.resources.memory.swappiness: expected an unsigned 64-bit integer, got -1");
}

TEST_CASE("parse_config: other type errors name path, expectation and value") {
  CHECK(error_of(R"({"ociVersion": 1})") == "ociVersion: expected a string, got 1");
  CHECK(error_of(doc(R"("root": {"path": "r", "readonly": "yes"})")) ==
        "root.readonly: expected a boolean, got \"yes\"");
  CHECK(error_of(doc(R"("mounts": {})")) == "mounts: expected an array, got an object");
  CHECK(error_of(doc(R"("mounts": [[]])")) == "mounts[0]: expected an object, got an array");
  CHECK(error_of(doc(R"("annotations": {"a": 1})")) ==
        "annotations[\"a\"]: expected a string, got 1");
  CHECK(error_of(doc(R"("linux": {"sysctl": {"net.x": null}})")) ==
        "linux.sysctl[\"net.x\"]: expected a string, got null");
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["a", 2]})")) ==
        "process.args[1]: expected a string, got 2");
  CHECK(error_of(doc(R"("linux": {"timeOffsets": {"boottime": {"secs": "1"}}})")) ==
        "linux.timeOffsets[\"boottime\"].secs: expected a 64-bit integer, got \"1\"");
  CHECK(error_of(doc(R"("linux": {"resources": {"rdma": {"mlx": {"hcaHandles": -2}}}})")) ==
        "linux.resources.rdma[\"mlx\"].hcaHandles: expected an unsigned 32-bit integer, got -2");
  CHECK(error_of(doc(R"("linux": {"namespaces": [{"type": "pids"}]})")) ==
        "linux.namespaces[0].type: unknown namespace type \"pids\"");
}

TEST_CASE("parse_config: error paths through several arrays, maps and the pids reader") {
  // Non-zero indices at two levels, below two objects.
  CHECK(error_of(doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["write"], "action": "SCMP_ACT_ERRNO", "args": [
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
        {"index": 1, "value": 2, "op": 3}]}]}})")) ==
        "linux.seccomp.syscalls[1].args[1].op: expected a string, got 3");
  CHECK(error_of(doc(R"("linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", 12],
       "action": "SCMP_ACT_ALLOW"}]}})")) ==
        "linux.seccomp.syscalls[1].names[11]: expected a string, got 12");
  // A map key is shown as a JSON string: escaped, and shortened when long.
  CHECK(error_of(doc(R"("annotations": {"ok": "1", "a\"b\n": 2})")) ==
        "annotations[\"a\\\"b\\n\"]: expected a string, got 2");
  const std::string key(100, 'k');
  CHECK(error_of(doc("\"annotations\": {\"" + key + "\": false}")) ==
        "annotations[\"" + std::string(64, 'k') + "...\"]: expected a string, got false");
  CHECK(error_of(doc(R"("linux": {"resources": {"unified": {"memory.max": 1}}})")) ==
        "linux.resources.unified[\"memory.max\"]: expected a string, got 1");
  // pids has its own reader.
  CHECK(error_of(doc(R"("linux": {"resources": {"pids": []}})")) ==
        "linux.resources.pids: expected an object, got an array");
  CHECK(error_of(doc(R"("linux": {"resources": {"pids": {"limit": "5"}}})")) ==
        "linux.resources.pids.limit: expected a 64-bit integer, got \"5\"");
  auto res = parse_resources(R"({"unified": {"io.max": [1]}})");
  REQUIRE_FALSE(res.has_value());
  CHECK(res.error().message() == "unified[\"io.max\"]: expected a string, got an array");
  auto proc = husk::spec::parse_process(R"({"cwd": "/", "args": ["sh"], "env": ["A=1", 2]})");
  REQUIRE_FALSE(proc.has_value());
  CHECK(proc.error().message() == "env[1]: expected a string, got 2");
}

TEST_CASE("parse_config: long strings are shortened in messages") {
  const std::string big(200, 'x');
  const std::string msg2 =
      error_of(doc("\"root\": {\"path\": \"r\", \"readonly\": \"" + big + "\"}"));
  CHECK(msg2 == "root.readonly: expected a boolean, got \"" + std::string(64, 'x') + "...\"");
}

TEST_CASE("parse_config: strings with NUL bytes are rejected") {
  CHECK(error_of(doc(R"("process": {"cwd": "/", "args": ["/bin/sh\u0000-c"]})")) ==
        "process.args[0]: string contains a NUL byte");
}

TEST_CASE("parse_config: ociVersion must be SemVer 1.0 .. 1.3") {
  for (const char* ok : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0", "1.3.0+dev", "1.0.0-rc5",
                         "1.3.17", "1.2.0-rc.1+build.5"}) {
    INFO(ok);
    CHECK(parse_config(std::string(R"({"ociVersion": ")") + ok + "\"}").has_value());
  }
  CHECK(error_of(R"({"ociVersion": "1.4.0"})") ==
        "ociVersion: unsupported version \"1.4.0\" (husk supports 1.0.0 to 1.3.x)");
  CHECK(error_of(R"({"ociVersion": "2.0.0"})") ==
        "ociVersion: unsupported version \"2.0.0\" (husk supports 1.0.0 to 1.3.x)");
  CHECK(error_of(R"({"ociVersion": "0.5.0-dev"})") ==
        "ociVersion: unsupported version \"0.5.0-dev\" (husk supports 1.0.0 to 1.3.x)");
  for (const char* bad : {"1.0", "1", "", "v1.0.0", "1.0.0.0", "01.0.0", "1.00.0", "1.0.0-",
                          "1.0.0+", "1.0.0-01", "1.0.0-a..b", "1.0.0 ", "1.0.0-a_b"}) {
    INFO(bad);
    CHECK(error_of(std::string(R"({"ociVersion": ")") + bad + "\"}") ==
          std::string("ociVersion: \"") + bad + "\" is not a SemVer 2.0.0 version");
  }
}

TEST_CASE("parse_resources reads a top-level LinuxResources object") {
  auto r = parse_resources(R"({"memory": {"limit": 1048576, "swap": -1},
      "cpu": {"quota": 50000, "period": 100000, "cpus": "0"}, "pids": {"limit": 10},
      "blockIO": {"weight": 100}, "unified": {"memory.high": "max"}})");
  REQUIRE(r.has_value());
  CHECK(r->memory->limit == 1048576);
  CHECK(r->memory->swap == -1);
  CHECK(r->cpu->quota == 50000);
  CHECK(r->cpu->cpus == "0");
  CHECK(r->pids->limit == 10);
  CHECK(r->block_io->weight == 100);
  CHECK(r->unified.at("memory.high") == "max");
  CHECK(parse_resources("{}").has_value());
}

TEST_CASE("parse_resources: errors are relative to the document") {
  auto bad = parse_resources(R"({"memory": {"limit": "1G"}})");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message() == "memory.limit: expected a 64-bit integer, got \"1G\"");
  auto arr = parse_resources("[1]");
  REQUIRE_FALSE(arr.has_value());
  CHECK(arr.error().message() == "document: expected an object, got an array");
  auto broken = parse_resources("{\"cpu\": ");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message().starts_with("invalid JSON at offset 8"));
}
