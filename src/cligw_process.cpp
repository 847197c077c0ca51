// posix_spawn of the gateway's child with pipes, pidfd and its own group.

#include "cligw_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
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

// RAII holders, so every return path of spawn_child releases them.
struct FileActions {
    posix_spawn_file_actions_t fa;
    FileActions() { posix_spawn_file_actions_init(&fa); }
    ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
};

struct SpawnAttr {
    posix_spawnattr_t attr;
    SpawnAttr() { posix_spawnattr_init(&attr); }
    ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};

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

    FileActions fa;
    // dup2 clears close-on-exec on the copies; everything from 3 up is
    // closed, since nginx's own sockets are not close-on-exec.
    if ((rc = posix_spawn_file_actions_addopen(&fa.fa, 0, "/dev/null",
                                               O_RDONLY, 0)) != 0
        || (rc = posix_spawn_file_actions_adddup2(&fa.fa, out.write.get(), 1))
               != 0
        || (rc = posix_spawn_file_actions_adddup2(&fa.fa, err.write.get(), 2))
               != 0
        || (rc = posix_spawn_file_actions_addclosefrom_np(&fa.fa, 3)) != 0)
    {
        return rc;
    }
    if (spec.cwd != nullptr
        && (rc = posix_spawn_file_actions_addchdir_np(&fa.fa, spec.cwd)) != 0)
    {
        return rc;
    }

    // nginx ignores SIGPIPE and blocks nothing we want inherited: reset
    // every disposition and the mask. None of these make glibc fork
    // instead of clone(CLONE_VM | CLONE_VFORK).
    SpawnAttr at;
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if ((rc = posix_spawnattr_setflags(&at.attr, POSIX_SPAWN_SETPGROUP
                                                     | POSIX_SPAWN_SETSIGDEF
                                                     | POSIX_SPAWN_SETSIGMASK))
            != 0
        || (rc = posix_spawnattr_setpgroup(&at.attr, 0)) != 0
        || (rc = posix_spawnattr_setsigdefault(&at.attr, &all)) != 0
        || (rc = posix_spawnattr_setsigmask(&at.attr, &none)) != 0)
    {
        return rc;
    }

    pid_t pid;
    rc = posix_spawn(&pid, spec.path, &fa.fa, &at.attr, spec.argv, spec.envp);
    if (rc != 0) {
        return rc;
    }

    int pidfd = pidfd_open(pid);
    if (pidfd == -1 && errno != ENOSYS) {
        rc = errno;
        ::kill(pid, SIGKILL);
        while (waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
        }
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

ReapResult reap_child(pid_t pid, int pidfd, bool wait, int &exit_code,
                      int &signo)
{
    siginfo_t info;
    idtype_t type = pidfd >= 0 ? static_cast<idtype_t>(P_PIDFD) : P_PID;
    id_t id = pidfd >= 0 ? static_cast<id_t>(pidfd) : static_cast<id_t>(pid);

    for (;;) {
        info.si_pid = 0;
        if (waitid(type, id, &info, WEXITED | (wait ? 0 : WNOHANG)) == 0) {
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
