// SPDX-License-Identifier: MIT
// Runs the real `nicsim` binary (NICSIM_CLI) for the end-to-end suites: exit status, stdout and
// stderr of one command, in a temporary directory that goes away with the Tmp.
#ifndef NICSIM_TESTS_CLI_RUNNER_H
#define NICSIM_TESTS_CLI_RUNNER_H

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace nicsim_test
{

struct Result {
    int status = -1;
    std::string out, err;
};

inline std::string slurp(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

class Tmp
{
  public:
    Tmp()
    {
        char t[] = "/tmp/nicsim-test-XXXXXX";
        const char *d = mkdtemp(t);
        dir_ = d ? d : "/tmp";
    }
    ~Tmp()
    {
        if (dir_ != "/tmp")
            (void)!system(("rm -rf " + dir_).c_str());
    }
    Tmp(const Tmp &) = delete;
    Tmp &operator=(const Tmp &) = delete;
    std::string path(const std::string &name) const { return dir_ + "/" + name; }

  private:
    std::string dir_;
};

// `nicsim ARGS` with no standard input.
inline Result nicsim(const std::string &args)
{
    Tmp t;
    std::string cmd = std::string(NICSIM_CLI) + " " + args + " > " + t.path("out") + " 2> " +
                      t.path("err") + " < /dev/null";
    int st = system(cmd.c_str());
    Result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(t.path("out"));
    r.err = slurp(t.path("err"));
    return r;
}

} // namespace nicsim_test

#endif
