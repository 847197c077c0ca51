/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The floor of the benchmark: what running a program and reading all it
 * prints costs with nothing else around it. Each of PROCS processes loops
 * posix_spawn + read the stdout pipe to EOF + waitpid until the time is up
 * (or RUNS runs are done); no HTTP, no framing, no event loop.
 *
 * usage: floor SECONDS PROCS RUNS PROGRAM [ARGS...]
 *        (SECONDS 0: stop after RUNS runs per process; RUNS 0: no limit)
 * prints: runs N seconds S bytes B cpu C   (C: CPU seconds of everything)
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct tally {
    long long runs;
    long long bytes;
};

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
run_once(char **argv, char *buf, size_t size, long long *bytes)
{
    int                         fds[2], status;
    pid_t                       pid;
    ssize_t                     n;
    posix_spawn_file_actions_t  fa;

    if (pipe2(fds, O_CLOEXEC) == -1) {
        return -1;
    }

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);

    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -1;
    }

    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);

    while ((n = read(fds[0], buf, size)) > 0) {
        *bytes += n;
    }

    close(fds[0]);

    return waitpid(pid, &status, 0) == pid && WIFEXITED(status)
           && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char **argv)
{
    int             i, procs;
    long            runs;
    double          seconds, start, deadline, cpu;
    struct tally   *tallies, sum = { 0, 0 };
    struct rusage   ru;

    if (argc < 5) {
        fprintf(stderr, "usage: floor SECONDS PROCS RUNS PROGRAM [ARGS...]\n");
        return 2;
    }

    seconds = atof(argv[1]);
    procs = atoi(argv[2]);
    runs = atol(argv[3]);

    tallies = mmap(NULL, procs * sizeof(struct tally), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tallies == MAP_FAILED) {
        perror("mmap");
        return 1;
    }

    start = now();
    deadline = seconds > 0 ? start + seconds : 0;

    for (i = 0; i < procs; i++) {
        if (fork() == 0) {
            static char  buf[64 * 1024];

            while ((deadline == 0 || now() < deadline)
                   && (runs == 0 || tallies[i].runs < runs))
            {
                if (run_once(&argv[4], buf, sizeof(buf), &tallies[i].bytes)
                    != 0)
                {
                    fprintf(stderr, "floor: %s failed\n", argv[4]);
                    _exit(1);
                }

                tallies[i].runs++;
            }

            _exit(0);
        }
    }

    int failed = 0, status;

    while (wait(&status) > 0) {
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }

    double elapsed = now() - start;

    for (i = 0; i < procs; i++) {
        sum.runs += tallies[i].runs;
        sum.bytes += tallies[i].bytes;
    }

    getrusage(RUSAGE_CHILDREN, &ru);
    cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
          + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;

    printf("runs %lld seconds %.6f bytes %lld cpu %.6f\n",
           sum.runs, elapsed, sum.bytes, cpu);

    return failed;
}
