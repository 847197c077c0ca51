/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// A run's own cgroup v2: checks, creation, limits, kill, removal.

#include "cligw/cgroup.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace cligw {

const char *const cgroup_controllers[3] = { "memory", "pids", "cpu" };

bool CgroupLimits::needs(const char *controller) const
{
    if (std::strcmp(controller, "memory") == 0) {
        return memory_max >= 0;
    }
    if (std::strcmp(controller, "pids") == 0) {
        return pids_max >= 0;
    }
    return cpu_percent >= 0;
}

namespace {

bool is_cgroup2(const std::string &path)
{
    struct statfs st;
    return statfs(path.c_str(), &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

std::string parent_of(const std::string &path)
{
    std::string::size_type slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/"
                                                    : path.substr(0, slash);
}

std::string without_trailing_slash(std::string path)
{
    while (path.size() > 1 && path.back() == '/') {
        path.pop_back();
    }
    return path;
}

// The top directory of the cgroup2 mount that holds `path`.
std::string mount_root(const std::string &path)
{
    std::string root = path;
    while (root != "/" && is_cgroup2(parent_of(root))) {
        root = parent_of(root);
    }
    return root;
}

bool read_words(const std::string &file, std::vector<std::string> &words)
{
    std::ifstream in(file);
    if (!in) {
        return false;
    }
    std::string w;
    while (in >> w) {
        words.push_back(w);
    }
    return true;
}

bool has_word(const std::vector<std::string> &words, const char *word)
{
    for (const std::string &w : words) {
        if (w == word) {
            return true;
        }
    }
    return false;
}

// Write permission by the mode bits, as the kernel checks them for a
// worker that is not root (no capabilities, no ACLs on cgroupfs).
bool writable_by(const std::string &path, uid_t uid, gid_t gid)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        return false;
    }
    if (uid == 0) {
        return true;
    }
    if (st.st_uid == uid) {
        return st.st_mode & S_IWUSR;
    }
    if (st.st_gid == gid) {
        return st.st_mode & S_IWGRP;
    }
    return st.st_mode & S_IWOTH;
}

// The longest path both are under, by whole components.
std::string common_ancestor(const std::string &a, const std::string &b)
{
    std::string common = a;
    while (common != "/"
           && !(b.compare(0, common.size(), common) == 0
                && (b.size() == common.size() || b[common.size()] == '/')))
    {
        common = parent_of(common);
    }
    return common;
}

int write_file(const std::string &file, const std::string &text)
{
    int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        return errno;
    }
    ssize_t n = write(fd, text.data(), text.size());
    int err = n == static_cast<ssize_t>(text.size()) ? 0
              : n == -1                              ? errno
                                                     : EIO;
    close(fd);
    return err;
}

} // namespace

std::string own_cgroup_dir(const std::string &inside)
{
    std::ifstream in("/proc/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.compare(0, 3, "0::") == 0) {
            std::string root = mount_root(without_trailing_slash(inside));
            std::string rel = line.substr(3);
            return rel == "/" ? root : root + rel;
        }
    }
    return "";
}

bool check_cgroup_parent(const std::string &parent_in,
                         const CgroupLimits &limits, uid_t uid, gid_t gid,
                         std::string &error)
{
    std::string parent = without_trailing_slash(parent_in);

    struct stat st;
    if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        error = "\"" + parent + "\" is not a directory";
        return false;
    }
    if (!is_cgroup2(parent)) {
        error = "\"" + parent + "\" is not in a cgroup v2 file system";
        return false;
    }

    std::vector<std::string> enabled, available;
    read_words(parent + "/cgroup.subtree_control", enabled);
    read_words(parent + "/cgroup.controllers", available);

    for (const char *c : cgroup_controllers) {
        if (!limits.needs(c) || has_word(enabled, c)) {
            continue;
        }
        if (has_word(available, c)) {
            error = std::string("the \"") + c + "\" controller is not "
                    "enabled for the children of \"" + parent + "\" (echo +"
                    + c + " > " + parent + "/cgroup.subtree_control)";
        } else {
            error = std::string("the \"") + c + "\" controller is not "
                    "available in \"" + parent + "\"";
        }
        return false;
    }

    if (!writable_by(parent, uid, gid)) {
        error = "the workers' user (uid " + std::to_string(uid)
                + ") cannot create cgroups in \"" + parent + "\"";
        return false;
    }

    std::string own = own_cgroup_dir(parent);
    if (!own.empty()) {
        std::string procs = common_ancestor(own, parent) + "/cgroup.procs";
        if (!writable_by(procs, uid, gid)) {
            error = "the workers' user (uid " + std::to_string(uid)
                    + ") cannot move programs out of nginx's cgroup: it "
                    "needs write access to \"" + procs + "\"";
            return false;
        }
    }

    return true;
}

int create_cgroup(const std::string &dir, const CgroupLimits &limits,
                  UniqueFd &procs, std::string &failed_file)
{
    failed_file = dir;
    if (mkdir(dir.c_str(), 0755) == -1) {
        return errno;
    }

    struct Setting {
        const char *file;
        std::string value;
    };
    std::vector<Setting> settings;
    if (limits.memory_max >= 0) {
        settings.push_back({"memory.max", std::to_string(limits.memory_max)});
        // no swapping around the limit where swap accounting exists
        settings.push_back({"memory.swap.max", "0"});
    }
    if (limits.pids_max >= 0) {
        settings.push_back({"pids.max", std::to_string(limits.pids_max)});
    }
    if (limits.cpu_percent >= 0) {
        settings.push_back({"cpu.max",
                            std::to_string(limits.cpu_percent * 1000)
                                + " 100000"});
    }

    for (const Setting &s : settings) {
        std::string file = dir + "/" + s.file;
        int err = write_file(file, s.value);
        if (err == ENOENT && std::strcmp(s.file, "memory.swap.max") == 0) {
            continue;
        }
        if (err != 0) {
            failed_file = file;
            rmdir(dir.c_str());
            return err;
        }
    }

    std::string file = dir + "/cgroup.procs";
    int fd = open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd == -1) {
        int err = errno;
        failed_file = file;
        rmdir(dir.c_str());
        return err;
    }
    procs.reset(fd);
    return 0;
}

int signal_cgroup(const std::string &dir, int sig)
{
    std::ifstream in(dir + "/cgroup.procs");
    if (!in) {
        return ENOENT;
    }
    pid_t pid;
    while (in >> pid) {
        kill(pid, sig);
    }
    return 0;
}

int kill_cgroup(const std::string &dir)
{
    int err = write_file(dir + "/cgroup.kill", "1");
    if (err != ENOENT) {
        return err;
    }
    if (access(dir.c_str(), F_OK) != 0) {
        return ENOENT;
    }
    // before Linux 5.14: each pid, until no new one shows up
    for (int round = 0; round < 16 && cgroup_populated(dir); round++) {
        signal_cgroup(dir, SIGKILL);
    }
    return 0;
}

bool cgroup_populated(const std::string &dir)
{
    std::ifstream in(dir + "/cgroup.events");
    std::string key;
    int value;
    while (in >> key >> value) {
        if (key == "populated") {
            return value != 0;
        }
    }
    return false;
}

int remove_cgroup(const std::string &dir)
{
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) {
        return 0;
    }
    return errno;
}

} // namespace cligw
