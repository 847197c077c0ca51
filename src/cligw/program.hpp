/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Starting, signalling and reaping the gateway's child (no nginx types).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>

namespace cligw {

// Owns one file descriptor.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd &&o) noexcept : fd_(o.release()) {}
    UniqueFd &operator=(UniqueFd &&o) noexcept;
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    int release();
    void reset(int fd = -1);
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// Resource limits and niceness of the child; each is set as both the soft
// and the hard limit, so the program cannot raise it again.
struct ChildLimits {
    static constexpr rlim_t unset = RLIM_INFINITY;

    rlim_t cpu_seconds = unset;    // RLIMIT_CPU
    rlim_t address_space = unset;  // RLIMIT_AS, bytes
    rlim_t open_files = unset;     // RLIMIT_NOFILE
    bool has_nice = false;
    int nice = 0;                  // setpriority(), -20..19

    bool any() const
    {
        return cpu_seconds != unset || address_space != unset
               || open_files != unset || has_nice;
    }
};

struct SpawnSpec {
    const char *path;          // absolute
    char *const *argv;         // argv[0] is the path, NULL-terminated
    char *const *envp;         // NULL-terminated
    const char *cwd;           // NULL: inherit
    ChildLimits limits;        // none by default
    int cgroup_procs = -1;     // cgroup.procs of the run's cgroup: the
                               // child joins it before execve
};

struct Child {
    pid_t pid = -1;            // also its process group id
    UniqueFd pidfd;            // readable once the child has exited; empty
                               // where the kernel has no pidfd_open (before
                               // Linux 5.3, or under valgrind)
    UniqueFd out;              // read ends, non-blocking, close-on-exec
    UniqueFd err;
};

// Starts the program without a shell: stdin /dev/null, stdout and stderr
// pipes, no other descriptor, its own process group, default signal
// dispositions and an empty signal mask, and spec.limits in force before
// its first instruction, inside spec.cgroup_procs's cgroup when given.
// Returns 0 or an errno value (also when a limit cannot be set or the
// cgroup not joined: the program then does not run).
int spawn_child(const SpawnSpec &spec, Child &child);

// What the original (Rust std::io::Error) prints for an errno value:
// "No such file or directory (os error 2)".
std::string os_error_message(int err);

// The message of a spawn failure: os_error_message(), and for EACCES the
// first path on the way that this process's user (the worker's) cannot
// use: "Permission denied (os error 13): the worker's user (uid 65534)
// cannot reach /root". The working directory (cwd, may be null) is
// looked at first, as it is entered first.
std::string spawn_error_message(int err, const char *program,
                                const char *cwd);

enum class ReapResult { exited, running, failed };

// Collects the exit status through the pidfd (by pid when pidfd is -1)
// without blocking, or blocking when `wait` is set. exit_code is the
// status, or -1 when killed by a signal; signo is the signal then.
// With `keep`, the status is read and the child stays a zombie until
// collect_child(): while it does, its pid, and so the number of the
// process group it leads, cannot go to another process, and signalling
// what is left of its group cannot hit an unrelated one.
ReapResult reap_child(pid_t pid, int pidfd, bool wait, int &exit_code,
                      int &signo, bool keep = false);

// Collects a child that has exited (a zombie), or waits for it to exit.
void collect_child(pid_t pid);

// Sends sig to the whole process group; ESRCH (group gone) is success.
int signal_group(pid_t pgid, int sig);

} // namespace cligw
