/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Spawning: what the child inherits, limits, failures and exit statuses,
// through both paths (posix_spawn, and the clone used when limits are set).

#include "unit.hpp"

#include "cligw/program.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cligw;

namespace {

struct Outcome {
    std::string out, err;
    int code = -2;
    int signo = 0;
};

// Reads both pipes to their end, then reaps the child.
Outcome wait_for(Child &child)
{
    Outcome o;
    struct pollfd fds[2] = { { child.out.get(), POLLIN, 0 },
                             { child.err.get(), POLLIN, 0 } };
    std::string *sinks[2] = { &o.out, &o.err };
    int open_pipes = 2;

    while (open_pipes > 0) {
        assert_true(poll(fds, 2, 10000) > 0);
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0) {
                continue;
            }
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof(buf));
            if (n > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(n));
            } else if (n == 0) {
                fds[i].fd = -1;
                open_pipes--;
            }
        }
    }
    assert_int_equal(reap_child(child.pid, child.pidfd.get(), true, o.code,
                                o.signo),
                     static_cast<int>(ReapResult::exited));
    return o;
}

// Runs `sh -c script`; limits decide the path.
int spawn_sh(const char *script, const ChildLimits &limits, Child &child,
             const char *cwd = nullptr, const char *path = "/bin/sh")
{
    static char sh[] = "/bin/sh", c[] = "-c";
    std::string s = script;
    char *argv[] = { sh, c, &s[0], nullptr };
    static char env0[] = "PATH=/usr/bin:/bin";
    char *envp[] = { env0, nullptr };

    SpawnSpec spec{ path, argv, envp, cwd, limits };
    return spawn_child(spec, child);
}

Outcome run_sh(const char *script, const ChildLimits &limits = {})
{
    Child child;
    assert_int_equal(spawn_sh(script, limits, child), 0);
    return wait_for(child);
}

ChildLimits some_limit()
{
    ChildLimits l;
    l.open_files = 256;
    return l;
}

// Both paths must give the child the same start.
const ChildLimits paths[] = { ChildLimits{}, some_limit() };

} // namespace

static void test_only_three_descriptors(void **)
{
    // a descriptor of ours without close-on-exec, like nginx's sockets
    int leak = open("/dev/null", O_RDONLY);
    assert_true(leak >= 3);

    for (const ChildLimits &l : paths) {
        Outcome o = run_sh("ls /proc/$$/fd; readlink /proc/$$/fd/0", l);
        assert_bytes_equal(o.out, "0\n1\n2\n/dev/null\n");
        assert_bytes_equal(o.err, "");
        assert_int_equal(o.code, 0);
    }
    close(leak);
}

static void test_default_signals(void **)
{
    struct sigaction ign, old_pipe;
    memset(&ign, 0, sizeof(ign));
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_pipe);
    sigset_t usr1, old_mask;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &old_mask);

    for (const ChildLimits &l : paths) {
        Outcome o = run_sh("yes | head -n 1; for f in SigBlk SigIgn; do "
                           "v=$(sed -n \"s/^$f:\t//p\" /proc/$$/status); "
                           "echo $f $(( 0x$v & 0x7fffffff )); done", l);
        assert_bytes_equal(o.out, "y\nSigBlk 0\nSigIgn 0\n");
        assert_int_equal(o.code, 0);
    }

    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    sigaction(SIGPIPE, &old_pipe, nullptr);
}

static void test_own_process_group(void **)
{
    for (const ChildLimits &l : paths) {
        Child child;
        assert_int_equal(spawn_sh("ps -o pgid= -p $$ | tr -d ' '", l, child),
                         0);
        std::string pid = std::to_string(child.pid);
        Outcome o = wait_for(child);
        assert_bytes_equal(o.out, pid + "\n");
    }
}

static void test_exit_statuses(void **)
{
    for (const ChildLimits &l : paths) {
        Outcome o = run_sh("echo out; echo err >&2; exit 3", l);
        assert_bytes_equal(o.out, "out\n");
        assert_bytes_equal(o.err, "err\n");
        assert_int_equal(o.code, 3);
        assert_int_equal(o.signo, 0);

        o = run_sh("kill -TERM $$", l);
        assert_int_equal(o.code, -1);
        assert_int_equal(o.signo, SIGTERM);
    }
}

static void test_spawn_failures(void **)
{
    char plain[] = "/tmp/cligw-not-executable.XXXXXX";
    int fd = mkstemp(plain);
    assert_true(fd >= 0 && fchmod(fd, 0644) == 0);
    close(fd);

    for (const ChildLimits &l : paths) {
        Child child;
        assert_int_equal(spawn_sh("true", l, child, nullptr,
                                  "/nonexistent/program"),
                         ENOENT);
        assert_int_equal(spawn_sh("true", l, child, "/nonexistent/dir"),
                         ENOENT);
        assert_int_equal(spawn_sh("true", l, child, nullptr, plain), EACCES);
        assert_int_equal(child.pid, -1);
    }
    // the message names what the worker's user could not use
    std::string uid = std::to_string(geteuid());
    assert_bytes_equal(spawn_error_message(EACCES, plain, nullptr),
                       "Permission denied (os error 13): the worker's user "
                       "(uid " + uid + ") cannot execute " + plain);
    assert_bytes_equal(spawn_error_message(EACCES, plain, "/"),
                       "Permission denied (os error 13): the worker's user "
                       "(uid " + uid + ") cannot execute " + plain);
    assert_bytes_equal(spawn_error_message(EACCES, "/bin/sh", nullptr),
                       "Permission denied (os error 13)");
    assert_bytes_equal(spawn_error_message(ENOENT, plain, nullptr),
                       "No such file or directory (os error 2)");
    unlink(plain);
    // a failed clone-path child was reaped: no child is left to wait for
    assert_int_equal(waitpid(-1, nullptr, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_limits_are_soft_and_hard(void **)
{
    ChildLimits l;
    l.cpu_seconds = 7;
    l.address_space = 512 * 1024 * 1024;
    l.open_files = 64;
    l.has_nice = true;
    l.nice = 5;

    Outcome o = run_sh("ulimit -St; ulimit -Ht; ulimit -Sv; ulimit -Hv; "
                       "ulimit -Sn; ulimit -Hn; "
                       "cut -d' ' -f19 /proc/$$/stat", l);
    assert_bytes_equal(o.out, "7\n7\n524288\n524288\n64\n64\n5\n");
    assert_int_equal(o.code, 0);

    // the program cannot raise them again
    o = run_sh("ulimit -n 65", l);
    assert_int_not_equal(o.code, 0);
}

static void test_limits_leave_the_parent_alone(void **)
{
    struct rlimit before, after;
    getrlimit(RLIMIT_NOFILE, &before);
    run_sh("true", some_limit());
    getrlimit(RLIMIT_NOFILE, &after);
    assert_int_equal(before.rlim_cur, after.rlim_cur);
    assert_int_equal(before.rlim_max, after.rlim_max);
}

static void test_cpu_limit_kills(void **)
{
    ChildLimits l;
    l.cpu_seconds = 1;
    Outcome o = run_sh("while :; do :; done", l);
    assert_int_equal(o.code, -1);
    assert_int_equal(o.signo, SIGKILL);
}

static void test_limit_not_granted(void **)
{
    // above fs.nr_open: refused even to root, so the program must not run
    ChildLimits l;
    l.open_files = 1 << 30;
    Child child;
    assert_int_equal(spawn_sh("echo ran", l, child), EPERM);
    assert_int_equal(child.pid, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_three_descriptors),
        cmocka_unit_test(test_default_signals),
        cmocka_unit_test(test_own_process_group),
        cmocka_unit_test(test_exit_statuses),
        cmocka_unit_test(test_spawn_failures),
        cmocka_unit_test(test_limits_are_soft_and_hard),
        cmocka_unit_test(test_limits_leave_the_parent_alone),
        cmocka_unit_test(test_cpu_limit_kills),
        cmocka_unit_test(test_limit_not_granted),
    };
    return cmocka_run_group_tests_name("process", tests, NULL, NULL);
}
