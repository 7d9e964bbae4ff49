// Plain C++ structs for an OCI runtime-spec v1.3.0 config.json (Linux).
// Filled by spec::parse_config(); no behaviour, no syscalls. Optional JSON
// fields are std::optional so "absent" and "zero" stay distinct (the spec
// gives them different meanings, e.g. oomScoreAdj, pids.limit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

// GNU dialects predefine `linux` as 1; the field below is named after the JSON key.
#undef linux

namespace husk::spec {

struct Root {
  std::string path;  // as written: absolute or relative to the bundle
  bool readonly = false;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;
};

struct Mount {
  std::string destination;
  std::optional<std::string> type;
  std::optional<std::string> source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE", ...
  uint64_t hard = 0;
  uint64_t soft = 0;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::optional<std::string> username;  // Windows only; kept for completeness
};

struct Capabilities {
  std::vector<std::string> bounding, effective, inheritable, permitted, ambient;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER, ...
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;
};

struct IoPriority {
  std::string io_class;  // IOPRIO_CLASS_RT | BE | IDLE
  int32_t priority = 0;
};

struct ExecCpuAffinity {
  std::optional<std::string> initial;
  std::optional<std::string> final_;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::optional<std::string> command_line;  // Windows only
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<std::string> apparmor_profile;
  std::optional<int32_t> oom_score_adj;
  std::optional<Scheduler> scheduler;
  std::optional<std::string> selinux_label;
  std::optional<IoPriority> io_priority;
  std::optional<ExecCpuAffinity> exec_cpu_affinity;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int32_t> timeout;  // seconds, > 0
};

struct Hooks {
  std::vector<Hook> prestart;  // deprecated, still run
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;
};

enum class NamespaceType { Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time };

struct Namespace {
  NamespaceType type = NamespaceType::Pid;
  std::optional<std::string> path;  // join instead of create
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;
};

struct Device {
  std::string type;  // c, b, u, p
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};

struct DeviceCgroup {
  bool allow = false;
  std::optional<std::string> type;  // a, c, b
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::optional<std::string> access;  // subset of "rwm"
};

struct Memory {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;      // NOT RECOMMENDED
  std::optional<int64_t> kernel_tcp;  // NOT RECOMMENDED
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;
};

struct Cpu {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::optional<std::string> cpus;
  std::optional<std::string> mems;
  std::optional<int64_t> idle;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;
};

struct BlockIo {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device;
  std::vector<ThrottleDevice> throttle_write_bps_device;
  std::vector<ThrottleDevice> throttle_read_iops_device;
  std::vector<ThrottleDevice> throttle_write_iops_device;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB", ...
  uint64_t limit = 0;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;
};

struct Network {
  std::optional<uint32_t> class_id;
  std::vector<NetworkPriority> priorities;
};

struct Pids {
  int64_t limit = 0;  // 0 is a real limit since v1.3.0; -1 (or <0) = max
};

struct Rdma {
  std::optional<uint32_t> hca_handles;
  std::optional<uint32_t> hca_objects;
};

struct Resources {
  std::vector<DeviceCgroup> devices;
  std::optional<Memory> memory;
  std::optional<Cpu> cpu;
  std::optional<BlockIo> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<Network> network;
  std::optional<Pids> pids;
  std::map<std::string, Rdma> rdma;
  std::map<std::string, std::string> unified;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_*
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::optional<std::string> listener_path;
  std::optional<std::string> listener_metadata;
  std::vector<SeccompSyscall> syscalls;
};

struct IntelRdt {
  std::optional<std::string> clos_id;
  std::optional<std::string> l3_cache_schema;
  std::optional<std::string> mem_bw_schema;
  std::vector<std::string> schemata;
  std::optional<bool> enable_monitoring;
};

struct NetDevice {
  std::optional<std::string> name;
};

struct MemoryPolicy {
  std::string mode;  // MPOL_*
  std::optional<std::string> nodes;
  std::vector<std::string> flags;
};

struct Personality {
  std::string domain;  // LINUX | LINUX32
  std::vector<std::string> flags;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::map<std::string, NetDevice> net_devices;  // host name -> container side
  std::optional<std::string> cgroups_path;
  std::optional<Resources> resources;
  std::optional<std::string> rootfs_propagation;
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::optional<std::string> mount_label;
  std::optional<IntelRdt> intel_rdt;
  std::optional<MemoryPolicy> memory_policy;
  std::optional<Personality> personality;
};

struct Config {
  std::string oci_version;
  std::optional<Root> root;
  std::vector<Mount> mounts;
  std::optional<Process> process;
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux;
};

}  // namespace husk::spec
