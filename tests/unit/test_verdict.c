/* SPDX-License-Identifier: MIT */
/* Unit tests of the verdict precedence (docs/SANDBOX.md). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "sbx_verdict.h"
#include "tap.h"

#define EXITED(code) (((code)&0xff) << 8)
#define KILLED(sig) (sig)

static struct sbx_verdict classify(struct sbx_observation o)
{
    struct sbx_verdict v;

    if (!o.cpu_limit_us)
        o.cpu_limit_us = 1000000;
    sbx_verdict_classify(&o, &v);
    return v;
}

int main(void)
{
    struct tap t = {0};
    struct sbx_verdict v;

    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(0)});
    tap_ok(&t, v.status == SBX_OK && v.exit_code == 0 && v.signal == 0, "exit 0 is ok");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(3)});
    tap_ok(&t, v.status == SBX_RUNTIME_ERROR && v.exit_code == 3, "exit 3 is runtime_error");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGSEGV)});
    tap_ok(&t, v.status == SBX_SIGNALED && v.signal == SIGSEGV, "SIGSEGV is signaled");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGSYS)});
    tap_ok(&t, v.status == SBX_SECURITY_VIOLATION, "SIGSYS is security_violation");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(0),
                                          .orphan_sigsys = 1});
    tap_ok(&t, v.status == SBX_SECURITY_VIOLATION, "a descendant's SIGSYS counts too");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGXCPU),
                                          .cpu_us = 950000});
    tap_ok(&t, v.status == SBX_TIME_LIMIT && v.time_kind == SBX_TIME_CPU,
           "SIGXCPU with the CPU to show for it is a cpu TLE");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGXCPU),
                                          .cpu_us = 1000});
    tap_ok(&t, v.status == SBX_SIGNALED && v.signal == SIGXCPU,
           "a self-raised SIGXCPU is just a signal");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(127),
                                          .exec_errno = ENOEXEC});
    tap_ok(&t, v.status == SBX_RUNTIME_ERROR && v.exit_code == 126,
           "the program's own file failing to exec is a runtime_error, 126");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(127),
                                          .exec_errno = ENOENT});
    tap_ok(&t, v.status == SBX_RUNTIME_ERROR && v.exit_code == 127, "... and 127 when missing");
    tap_ok(&t, sbx_exec_blames_program("./main") && sbx_exec_blames_program("/box/a.out") &&
                   sbx_exec_blames_program("/tmp/x") && sbx_exec_blames_program("bin/run"),
           "files of the run's own are the program's");
    tap_ok(&t, !sbx_exec_blames_program("python3") && !sbx_exec_blames_program("/usr/bin/gcc") &&
                   !sbx_exec_blames_program("/boxer/x"),
           "configured commands are the sandbox's");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGXFSZ)});
    tap_ok(&t, v.status == SBX_OUTPUT_LIMIT, "SIGXFSZ is output_limit");
    v = classify((struct sbx_observation){.killed_for = SBX_KILL_WALL});
    tap_ok(&t, v.status == SBX_TIME_LIMIT && v.time_kind == SBX_TIME_WALL, "wall kill");
    v = classify((struct sbx_observation){.killed_for = SBX_KILL_CPU});
    tap_ok(&t, v.status == SBX_TIME_LIMIT && v.time_kind == SBX_TIME_CPU, "cpu kill");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = EXITED(0),
                                          .cpu_us = 1500000});
    tap_ok(&t, v.status == SBX_TIME_LIMIT && v.time_kind == SBX_TIME_CPU,
           "finishing over the CPU limit is still a TLE");
    v = classify((struct sbx_observation){.killed_for = SBX_KILL_WALL, .cpu_us = 1500000});
    tap_ok(&t, v.time_kind == SBX_TIME_CPU, "cpu beats wall when both were exceeded");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGKILL),
                                          .oom_kills = 1, .killed_for = SBX_KILL_CPU});
    tap_ok(&t, v.status == SBX_MEMORY_LIMIT, "OOM beats TLE");
    v = classify((struct sbx_observation){.killed_for = SBX_KILL_OUTPUT, .oom_kills = 1});
    tap_ok(&t, v.status == SBX_OUTPUT_LIMIT, "output limit beats OOM");
    v = classify((struct sbx_observation){.internal_error = 1, .killed_for = SBX_KILL_OUTPUT});
    tap_ok(&t, v.status == SBX_INTERNAL_ERROR, "internal error beats everything");
    v = classify((struct sbx_observation){.exited = 0});
    tap_ok(&t, v.status == SBX_INTERNAL_ERROR, "no status and no kill is an internal error");
    v = classify((struct sbx_observation){.exited = 1, .wait_status = KILLED(SIGKILL)});
    tap_ok(&t, v.status == SBX_SIGNALED && v.signal == SIGKILL,
           "a SIGKILL we did not send is the program's own");
    tap_ok(&t, strcmp(sbx_status_name(SBX_SECURITY_VIOLATION), "security_violation") == 0 &&
                   strcmp(sbx_status_name(SBX_TIME_LIMIT), "time_limit") == 0,
           "status names");
    return tap_done(&t);
}
