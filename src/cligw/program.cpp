/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Spawning the gateway's child with pipes, pidfd and its own group.

#include "cligw/program.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace cligw {

UniqueFd &UniqueFd::operator=(UniqueFd &&o) noexcept
{
    if (this != &o) {
        reset(o.release());
    }
    return *this;
}

int UniqueFd::release()
{
    int fd = fd_;
    fd_ = -1;
    return fd;
}

void UniqueFd::reset(int fd)
{
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

namespace {

struct Pipe {
    UniqueFd read, write;

    int open()
    {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) == -1) {
            return errno;
        }
        read.reset(fds[0]);
        write.reset(fds[1]);
        // Only our end is non-blocking: the program writes in blocking mode.
        int flags = fcntl(fds[0], F_GETFL);
        if (flags == -1 || fcntl(fds[0], F_SETFL, flags | O_NONBLOCK) == -1) {
            return errno;
        }
        return 0;
    }
};

int pidfd_open(pid_t pid)
{
    return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// The child starts the way glibc's posix_spawn starts one (clone with
// CLONE_VM | CLONE_VFORK on a stack of its own, the parent suspended until
// execve), but does its own setup: posix_spawn has no attribute for
// resource limits, niceness or a cgroup (glibc 2.36), and set after it
// returns they would come too late, the program already running. One path
// for every run, so every child starts the same way.
struct CloneStart {
    const SpawnSpec *spec;
    int out_w;
    int err_w;
    volatile int err;   // the child's errno when it could not exec
};

// In place as fd `target`, without close-on-exec.
bool move_fd(int fd, int target)
{
    if (fd == target) {
        return fcntl(fd, F_SETFD, 0) != -1;
    }
    return dup2(fd, target) != -1;
}

bool close_from_3()
{
    if (close_range(3, ~0U, 0) == 0) {
        return true;
    }
    if (errno != ENOSYS) {
        return false;
    }
    // before Linux 5.9
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
        return false;
    }
    for (rlim_t fd = 3; fd < rl.rlim_cur; fd++) {
        ::close(static_cast<int>(fd));
    }
    return true;
}

bool set_limit(int resource, rlim_t value)
{
    if (value == ChildLimits::unset) {
        return true;
    }
    struct rlimit rl = {value, value};
    return setrlimit(resource, &rl) == 0;
}

// Runs in the child, on the parent's memory: system calls only, no
// allocation, no exceptions, and every signal blocked until the
// dispositions are back to default.
int start_cloned_child(void *arg)
{
    CloneStart *cs = static_cast<CloneStart *>(arg);
    const SpawnSpec &spec = *cs->spec;
    const ChildLimits &lim = spec.limits;

    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        sigaction(sig, &dfl, nullptr); // EINVAL for KILL, STOP, glibc's own
    }

    sigset_t none;
    sigemptyset(&none);

    int devnull = open("/dev/null", O_RDONLY);
    if (setpgid(0, 0) == -1
        || (spec.cgroup_procs >= 0 && write(spec.cgroup_procs, "0", 1) != 1)
        || devnull == -1 || !move_fd(devnull, 0)
        || !move_fd(cs->out_w, 1) || !move_fd(cs->err_w, 2)
        || !close_from_3()
        || (spec.cwd != nullptr && chdir(spec.cwd) == -1)
        || !set_limit(RLIMIT_CPU, lim.cpu_seconds)
        || !set_limit(RLIMIT_AS, lim.address_space)
        || !set_limit(RLIMIT_NOFILE, lim.open_files)
        || (lim.has_nice && setpriority(PRIO_PROCESS, 0, lim.nice) == -1)
        || sigprocmask(SIG_SETMASK, &none, nullptr) == -1)
    {
        cs->err = errno;
        _exit(127);
    }

    execve(spec.path, spec.argv, spec.envp);
    cs->err = errno;
    _exit(127);
}

int launch_cloned(const SpawnSpec &spec, int out_w, int err_w, pid_t &pid)
{
    constexpr std::size_t stack_size = 64 * 1024;

    void *stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        return errno;
    }

    CloneStart cs{&spec, out_w, err_w, 0};

    // No nginx signal handler may run in the child, on the shared memory.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);

    pid_t p = clone(start_cloned_child, static_cast<char *>(stack) + stack_size,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, &cs);
    int rc = p == -1 ? errno : 0;

    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    munmap(stack, stack_size);

    if (rc == 0 && cs.err != 0) {
        rc = cs.err;
        collect_child(p);
    }
    if (rc == 0) {
        pid = p;
    }
    return rc;
}

} // namespace

int spawn_child(const SpawnSpec &spec, Child &child)
{
    Pipe out, err;
    int rc = out.open();
    if (rc == 0) {
        rc = err.open();
    }
    if (rc != 0) {
        return rc;
    }

    pid_t pid;
    rc = launch_cloned(spec, out.write.get(), err.write.get(), pid);
    if (rc != 0) {
        return rc;
    }

    int pidfd = pidfd_open(pid);
    if (pidfd == -1 && errno != ENOSYS) {
        rc = errno;
        ::kill(pid, SIGKILL);
        collect_child(pid);
        return rc;
    }

    child.pid = pid;
    child.pidfd.reset(pidfd);
    child.out = std::move(out.read);
    child.err = std::move(err.read);
    return 0;
}

std::string os_error_message(int err)
{
    char buf[256];
    // GNU strerror_r returns the message, not always in buf.
    const char *msg = strerror_r(err, buf, sizeof(buf));
    return std::string(msg) + " (os error " + std::to_string(err) + ")";
}

namespace {

// What the first component of `path` that this process may not use is:
// a directory on the way it cannot search ("reach"), or the last
// component itself ("last_verb" with access `last_mode`); empty if none.
std::string first_unusable(const char *path, int last_mode,
                           const char *last_verb)
{
    std::string p(path);

    for (size_t end = 1; end <= p.size(); end++) {
        if (end < p.size() && p[end] != '/') {
            continue;
        }
        std::string part = p.substr(0, end);
        bool last = end == p.size();
        if (::faccessat(AT_FDCWD, part.c_str(), last ? last_mode : X_OK,
                        AT_EACCESS) != 0 && errno == EACCES) {
            return std::string(last ? last_verb : "reach") + " " + part;
        }
    }
    return {};
}

} // namespace

std::string spawn_error_message(int err, const char *program,
                                const char *cwd)
{
    std::string msg = os_error_message(err);

    if (err != EACCES) {
        return msg;
    }

    std::string what;
    if (cwd != nullptr) {
        what = first_unusable(cwd, X_OK, "enter");
    }
    if (what.empty() && program != nullptr) {
        what = first_unusable(program, X_OK, "execute");
    }
    if (!what.empty()) {
        msg += ": the worker's user (uid " + std::to_string(::geteuid())
               + ") cannot " + what;
    }
    return msg;
}

void collect_child(pid_t pid)
{
    while (waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
    }
}

ReapResult reap_child(pid_t pid, int pidfd, bool wait, int &exit_code,
                      int &signo, bool keep)
{
    siginfo_t info;
    idtype_t type = pidfd >= 0 ? static_cast<idtype_t>(P_PIDFD) : P_PID;
    id_t id = pidfd >= 0 ? static_cast<id_t>(pidfd) : static_cast<id_t>(pid);

    for (;;) {
        info.si_pid = 0;
        if (waitid(type, id, &info,
                   WEXITED | (wait ? 0 : WNOHANG) | (keep ? WNOWAIT : 0))
            == 0)
        {
            break;
        }
        if (errno != EINTR) {
            return ReapResult::failed;
        }
    }
    if (info.si_pid == 0) {
        return ReapResult::running;
    }
    if (info.si_code == CLD_EXITED) {
        exit_code = info.si_status;
        signo = 0;
    } else {
        exit_code = -1;
        signo = info.si_status;
    }
    return ReapResult::exited;
}

int signal_group(pid_t pgid, int sig)
{
    if (pgid <= 0) {
        return EINVAL;
    }
    if (::kill(-pgid, sig) == -1 && errno != ESRCH) {
        return errno;
    }
    return 0;
}

} // namespace cligw
