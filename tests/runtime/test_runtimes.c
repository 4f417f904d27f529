/* SPDX-License-Identifier: MIT */
/* Happy paths under realistic limits, all in one warm slot: Python, Node.js, C (gcc inside
 * the sandbox, binary collected and run in a second run) and Java (javac then java; the JVM
 * and V8 need cgroup memory limits, not RLIMIT_AS). */
#include <string.h>

#include "runtime_util.h"
#include "tap.h"

static void test_python(struct tap *t, struct sbx_slot *s)
{
    static const char src[] = "import sys\nprint(sum(int(x) for x in sys.stdin.read().split()))\n";
    struct sbx_file f = {"main.py", src, sizeof(src) - 1, 0};
    char *argv[] = {(char *)"python3", (char *)"main.py", NULL};
    struct sbx_run_spec spec;
    struct sbx_result res;
    int ok;

    rt_spec(&spec, argv, &f, 1, NULL, 0);
    spec.stdin_data = "1 2 3 39\n";
    spec.stdin_len = 9;
    ok = rt_run(s, &spec, &res, SBX_OK) == SBX_OK && rt_stdout_has(&res, "45\n");
    tap_ok(t, ok,
           "python3 reads stdin and prints 45 (cpu %llu ms, peak %llu KiB)",
           (unsigned long long)res.cpu_ms, (unsigned long long)res.memory_peak_kb);
    sbx_result_clear(&res);
}

static void test_node(struct tap *t, struct sbx_slot *s)
{
    static const char src[] = "let a=[];for(let i=0;i<1e5;i++)a.push(i*i);console.log(a.length)\n";
    struct sbx_file f = {"main.js", src, sizeof(src) - 1, 0};
    char *argv[] = {(char *)"node", (char *)"main.js", NULL};
    struct sbx_run_spec spec;
    struct sbx_result res;
    int ok;

    rt_spec(&spec, argv, &f, 1, NULL, 0);
    spec.limits.memory_bytes = 512ULL << 20;
    ok = rt_run(s, &spec, &res, SBX_OK) == SBX_OK && rt_stdout_has(&res, "100000\n");
    tap_ok(t, ok,
           "node runs under a 512M cgroup limit (peak %llu KiB)",
           (unsigned long long)res.memory_peak_kb);
    sbx_result_clear(&res);
}

/* Compiles in one run, collects the artifact, runs it in the next: how a judge uses a slot. */
static void compile_then_run(struct tap *t, struct sbx_slot *s, const char *what,
                             struct sbx_file *src, char **compile_argv, const char *artifact,
                             char **run_argv, const char *expect, uint64_t memory)
{
    const char *collect[] = {artifact};
    struct sbx_run_spec spec;
    struct sbx_result built, ran;
    struct sbx_file bin;
    int ok;

    rt_spec(&spec, compile_argv, src, 1, collect, 1);
    spec.limits.cpu_ms = 10000;
    spec.limits.wall_ms = 30000;
    spec.limits.memory_bytes = memory;
    spec.limits.processes = 256;
    ok = rt_run(s, &spec, &built, SBX_OK) == SBX_OK && built.nfiles == 1 && built.files[0].data;
    tap_ok(t, ok, "%s: compiles inside the sandbox (cpu %llu ms)", what,
           (unsigned long long)built.cpu_ms);
    if (ok) {
        bin = (struct sbx_file){artifact, built.files[0].data, built.files[0].len, 1};
        rt_spec(&spec, run_argv, &bin, 1, NULL, 0);
        spec.limits.cpu_ms = 5000;
        spec.limits.memory_bytes = memory;
        spec.limits.processes = 256;
        ok = rt_run(s, &spec, &ran, SBX_OK) == SBX_OK && rt_stdout_has(&ran, expect);
        tap_ok(t, ok,
               "%s: the collected artifact runs in a fresh box (peak %llu KiB)", what,
               (unsigned long long)ran.memory_peak_kb);
        sbx_result_clear(&ran);
    }
    sbx_result_clear(&built);
}

int main(void)
{
    static const char c_src[] = "#include <stdio.h>\nint main(void){long s=0;"
                                "for(int i=0;i<1000;i++)s+=i;printf(\"%ld\\n\",s);return 0;}\n";
    static const char java_src[] = "public class Main { public static void main(String[] a) {"
                                   " System.out.println(\"java \" + (6 * 7)); } }\n";
    struct sbx_file c_file = {"main.c", c_src, sizeof(c_src) - 1, 0};
    struct sbx_file java_file = {"Main.java", java_src, sizeof(java_src) - 1, 0};
    char *gcc[] = {(char *)"gcc", (char *)"-O2", (char *)"-o", (char *)"main", (char *)"main.c",
                   NULL};
    char *run_c[] = {(char *)"./main", NULL};
    char *javac[] = {(char *)"javac", (char *)"-J-Xshare:off", (char *)"Main.java", NULL};
    char *java[] = {(char *)"java", (char *)"-Xshare:off", (char *)"Main", NULL};
    struct sbx_slot_config cfg;
    struct sbx_slot slot;
    struct tap t = {0};
    char err[512] = "";

    sbx_slot_config_default(&cfg);
    cfg.slot = 21;
    if (!tap_ok(&t, sbx_slot_open(&slot, &cfg, err, sizeof(err)) == 0, "open slot (%s)", err))
        return tap_done(&t);
    test_python(&t, &slot);
    test_node(&t, &slot);
    compile_then_run(&t, &slot, "C", &c_file, gcc, "main", run_c, "499500\n", 256ULL << 20);
    compile_then_run(&t, &slot, "Java", &java_file, javac, "Main.class", java, "java 42\n",
                     1ULL << 30);
    sbx_slot_close(&slot, 1);
    return tap_done(&t);
}
