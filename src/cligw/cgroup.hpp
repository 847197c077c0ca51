/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// A run's own cgroup v2 (cli_gateway_cgroup), no nginx types.
//
// Each run gets a directory under the configured parent; its child joins
// it before its first instruction, so nothing the program starts (setsid,
// double forks) can leave. Stopping writes cgroup.kill, which reaches every
// process in it at once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "cligw/program.hpp"

namespace cligw {

// Limits written into each run's cgroup; -1: not set.
struct CgroupLimits {
    std::int64_t memory_max = -1;    // bytes, memory.max
    std::int64_t pids_max = -1;      // tasks, pids.max
    std::int64_t cpu_percent = -1;   // of one CPU, cpu.max (100: one CPU)

    bool needs(const char *controller) const;
};

// The controllers these limits need, as in cgroup.controllers.
extern const char *const cgroup_controllers[3];

// At configuration time, as the master: `parent` is a directory of a
// cgroup v2 file system, the controllers the limits need are enabled for
// its children, and a worker running as uid/gid can create cgroups under
// it and move its children there (write access to the parent and to the
// cgroup.procs of the common ancestor of `own_cgroup` and parent). Returns
// false with a one-line reason.
bool check_cgroup_parent(const std::string &parent, const CgroupLimits &limits,
                         uid_t uid, gid_t gid, std::string &error);

// This process's cgroup v2 directory under the mount that holds `inside`
// (from /proc/self/cgroup); empty when it cannot be told.
std::string own_cgroup_dir(const std::string &inside);

// Creates `dir`, writes the limits, opens its cgroup.procs for the child
// to join (write "0" there before execve). 0 or an errno value; on error
// nothing is left behind. `failed_file` names what failed.
int create_cgroup(const std::string &dir, const CgroupLimits &limits,
                  UniqueFd &procs, std::string &failed_file);

// SIGKILL to everything in `dir` (cgroup.kill; where the kernel lacks it,
// each pid of cgroup.procs until none is left). 0 or an errno value;
// ENOENT when the cgroup is gone already.
int kill_cgroup(const std::string &dir);

// `sig` to each process in `dir`.
int signal_cgroup(const std::string &dir, int sig);

// Whether any process is still in `dir` (cgroup.events); false when the
// cgroup is gone.
bool cgroup_populated(const std::string &dir);

// rmdir; 0, or EBUSY while processes remain, or another errno value.
// ENOENT counts as removed.
int remove_cgroup(const std::string &dir);

} // namespace cligw
