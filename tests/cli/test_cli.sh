#!/bin/sh
# runq, the command-line client, end to end against a live fleet of its own: Redis and
# PostgreSQL (cli/runq-services) in a temporary state directory on ports 6497 and 5597, a
# dispatcher on 127.0.0.1:8597 and a worker on sandbox slots 80-81 (ports and slots no other
# test uses). Real servers, real sandbox, no mocks; needs root (the worker's sandbox).
# Checks each command's output and exit code (the table of `runq --help`), and grade's
# reports (JSON parsed, CSV lines, JUnit XML parsed and counted). Prints TAP.
# Usage: test_cli.sh RUNQ WORKER DISPATCHER SOURCE_ROOT
set -u
# meson passes paths relative to the build directory; the test changes directory
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
runq=$(abs "$1") worker=$(abs "$2") dispatcher=$(abs "$3") root=$(cd "$4" && pwd)
export RUNQ_LOCAL_REDIS_PORT=6497 RUNQ_LOCAL_PG_PORT=5597
listen=127.0.0.1:8597
export RUNQ_URL=http://$listen

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP needs root (the worker's sandbox)"
    exit 0
fi

state=$(mktemp -d /tmp/runq-cli-test-XXXXXX)
work=$state/work
mkdir -p "$work"

cleanup() {
    for p in dispatcher worker; do
        if [ -f "$state/$p.pid" ]; then
            kill "$(cat "$state/$p.pid")" 2>/dev/null || true
        fi
    done
    for p in dispatcher worker; do # the worker drains its slots before it exits
        if [ -f "$state/$p.pid" ]; then
            i=0
            while kill -0 "$(cat "$state/$p.pid")" 2>/dev/null && [ $i -lt 100 ]; do
                sleep 0.1; i=$((i + 1))
            done
            kill -9 "$(cat "$state/$p.pid")" 2>/dev/null || true
        fi
    done
    "$root/cli/runq-services" stop "$state" >/dev/null 2>&1 || true
    rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0 failed=0
ok() { # status description
    n=$((n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}
# run ARGS...: runq with its stdout in $out, stderr in $err, exit code in $rc
run() {
    "$runq" "$@" >"$work/out" 2>"$work/err"
    rc=$?
    out=$(cat "$work/out")
    err=$(cat "$work/err")
}
diag() { sed 's/^/# /' "$work/err" "$work/out"; }
expect() { # exit-code description [extra condition status]
    if [ "$rc" = "$1" ] && [ "${3:-0}" = 0 ]; then ok 0 "$2"; else ok 1 "$2 (exit $rc)"; diag; fi
}
has() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# ---- the fleet
if ! eval "$("$root/cli/runq-services" start "$state")"; then
    echo "Bail out! Redis or PostgreSQL did not start"
    exit 1
fi
cat >"$state/runq.yaml" <<YAML
dispatcher:
  listen: $listen
redis:
  url: $REDIS_URL
postgres:
  url: $POSTGRES_URL
worker:
  slots: 2
YAML
"$worker" -c "$state/runq.yaml" -l "$root/config/languages.yaml" --first-slot 80 \
    >"$state/worker.log" 2>&1 &
echo $! >"$state/worker.pid"
"$dispatcher" -c "$state/runq.yaml" -l "$root/config/languages.yaml" \
    >"$state/dispatcher.log" 2>&1 &
echo $! >"$state/dispatcher.pid"
i=0
until "$runq" languages >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 100 ]; then
        echo "Bail out! the dispatcher did not answer"
        sed 's/^/# /' "$state/dispatcher.log"
        exit 1
    fi
    sleep 0.1
done

# ---- submit, get
cd "$work" || exit 1
printf 'import sys\nprint(sum(map(int, sys.stdin.read().split())))\n' >add.py
echo "3 4 5" >add.in
run submit add.py --stdin add.in --wait
expect 0 "submit --wait of a Python file: exit 0" "$([ "$out" = 12 ]; echo $?)"
has "$err" "completed: ok"; ok $? "... its status line on stderr"

printf 'import sys\nprint("half")\nprint("oops", file=sys.stderr)\nsys.exit(3)\n' >fail.py
run submit fail.py --wait
expect 1 "submit --wait of a failing program: exit 1" "$([ "$out" = half ]; echo $?)"
has "$err" "oops"; ok $? "... its stderr is passed on"
has "$err" "runtime_error, exit 3"; ok $? "... and the status says runtime_error, exit 3"

echo "1 2" | "$runq" --url "$RUNQ_URL" submit add.py --stdin - --wait --json >"$work/j" 2>/dev/null
rc=$?
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["result"]["stdout"]=="3\n"' \
    "$work/j" 2>/dev/null
ok $(( rc + $? )) "submit --wait --json with --stdin -: the job as JSON"

run submit fail.py
id=$out
expect 0 "submit without --wait prints the job id" "$(has "$id" default.; echo $?)"
i=0
while run get "$id" --json && has "$out" '"queued"' || has "$out" '"running"'; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
done
run get "$id"
expect 1 "get of the finished failing job: exit 1" "$([ "$out" = half ]; echo $?)"
run get "$id" --json
expect 1 "get --json" "$(has "$out" '"status": "completed"'; echo $?)"
run get default.aaaaaaaaaaaaaaaaaaaaaaaaaa
expect 4 "get of no such job: exit 4" "$(has "$err" not_found; echo $?)"

# ---- cancel
printf 'import time\nprint("started", flush=True)\ntime.sleep(20)\n' >long.py
run submit long.py
id=$out
i=0
until run get "$id" --json && has "$out" '"running"'; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
done
run cancel "$id"
expect 0 "cancel of a running job: exit 0" "$(has "$out" "$id cancel"; echo $?)"
i=0
until run get "$id" --json && has "$out" '"cancelled"'; do
    i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
done
run get "$id"
expect 4 "the cancelled job: get exits 4"
run cancel "$id"
expect 4 "cancel of a finished job: exit 4" "$(has "$err" already_finished; echo $?)"

# ---- languages
run languages
expect 0 "languages: exit 0" "$(has "$out" "python3, py"; echo $?)"
has "$out" "NAME" && has "$out" "VERSION" && has "$out" "csharp"; ok $? "... a table of all of them"

# ---- watch
cat >slow.py <<'PY'
import sys, time
for i in range(3):
    print("line", i, flush=True)
    time.sleep(0.3)
print("to stderr", file=sys.stderr)
PY
run submit slow.py
id=$out
run watch "$id"
expect 0 "watch: exit 0 at the end" \
    "$([ "$out" = "$(printf 'line 0\nline 1\nline 2')" ]; echo $?)"
has "$err" "to stderr" && has "$err" "completed: ok"; ok $? "... stderr and the final status"
run watch "$id" --json
expect 0 "watch --json of a finished job" "$(has "$out" '"event":"snapshot"'; echo $?)"
run submit fail.py
run watch "$out"
expect 1 "watch of a failing job: exit 1"

# ---- errors
run --url http://127.0.0.1:1 languages
expect 3 "an unreachable dispatcher: exit 3"
run submit add.py --frobnicate
expect 2 "an unknown option: exit 2" "$(has "$err" "unknown option --frobnicate"; echo $?)"
echo x >x.unknownext
run submit x.unknownext
expect 2 "a file whose language is unknown: exit 2" "$(has "$err" "--language"; echo $?)"
run submit add.py --language klingon
expect 4 "a language the server refuses: exit 4" "$(has "$err" unknown_language; echo $?)"
run submit missing.py --language python
expect 2 "a missing file: exit 2"
run --help
expect 0 "--help lists the exit codes" "$(has "$out" "Exit codes"; echo $?)"

# ---- grade: one AC (Python), one WA (C), one CE (C) against three tests
mkdir -p subs tests
printf 'a, b = map(int, input().split())\nprint(a + b)\n' >subs/good.py
cat >subs/wa.c <<'C'
#include <stdio.h>
int main(void) { int a, b; scanf("%d %d", &a, &b); printf("%d\n", a * b); return 0; }
C
printf 'int main(void) { return undeclared; }\n' >subs/ce.c
printf '1 2\n' >tests/1.in; printf '3\n' >tests/1.out
printf '2 2\n' >tests/2.in; printf '4\n' >tests/2.ans
printf '10 5\n' >tests/10.in; printf '15\n' >tests/10.out
run grade subs --tests tests --json r.json --csv r.csv --junit r.xml
expect 1 "grade: some submission not AC: exit 1"
has "$out" "3 submissions: 1 accepted, 2 not accepted, 0 not graded"
ok $? "... the table's summary"
# the whole run is one batch (POST /v1/batches, the tests stored once): Redis holds exactly
# one batch hash (beside its :jobs list), the one whose id grade printed, with the 3 jobs
# the reports name
batch=$(printf '%s\n' "$err" | sed -n 's/^runq: batch \([^ :]*\): grading 3 submissions.*/\1/p')
nbatches=$(redis-cli -p "$RUNQ_LOCAL_REDIS_PORT" --scan --pattern 'runq:{default}:batch:*' |
    grep -vc ':jobs$')
[ -n "$batch" ] && [ "$nbatches" = 1 ] &&
    redis-cli -p "$RUNQ_LOCAL_REDIS_PORT" exists "runq:{default}:batch:$batch" | grep -qx 1
ok $? "grade: exactly one batch for the run (${batch:-no id printed}, $nbatches in Redis)"
curl -sf "$RUNQ_URL/v1/batches/$batch" >"$work/batch.json"
python3 - "$work/batch.json" r.json <<'PY' 2>"$work/py"
import json, sys
b, r = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["status"] == "completed" and b["total"] == 3 and b["done"] == 3, b
assert sorted(j["name"] for j in b["jobs"]) == ["ce.c", "good.py", "wa.c"], b["jobs"]
assert {j["id"] for j in b["jobs"]} == {s["job_id"] for s in r["submissions"]}, (b, r)
assert b["counts"] == {"AC": 1, "WA": 1, "CE": 1}, b["counts"]
PY
ok $? "GET /v1/batches/ID: completed, its jobs named by file, the reports' jobs"
sed 's/^/# /' "$work/py"
python3 - r.json <<'PY' 2>"$work/py"
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["submission"]: x for x in d["submissions"]}
assert s["good.py"]["verdict"] == "AC" and s["good.py"]["score"] == 3, s["good.py"]
assert s["wa.c"]["verdict"] == "WA" and s["wa.c"]["score"] == 1, s["wa.c"]
assert [t["verdict"] for t in s["wa.c"]["tests"]] == ["WA", "AC", "WA"]
assert [t["name"] for t in s["wa.c"]["tests"]] == ["1", "2", "10"]
assert s["ce.c"]["verdict"] == "CE" and s["ce.c"]["language"] == "c"
assert d["summary"] == {"submissions": 3, "accepted": 1, "not_accepted": 2, "errors": 0,
                        "exit_code": 1}, d["summary"]
PY
ok $? "grade --json: verdicts, scores, tests in natural order, summary"
sed 's/^/# /' "$work/py"
grep -q '^good.py,python,default\.[a-z0-9]*,AC,3,3,[0-9]*,3,3,' r.csv &&
    grep -q '^wa.c,c,default\.[a-z0-9]*,WA,1,3,[0-9]*,1,3,' r.csv &&
    grep -q '^ce.c,c,default\.[a-z0-9]*,CE,0,3,,0,3,' r.csv &&
    head -n 1 r.csv |
    grep -q '^submission,language,job_id,verdict,score,max_score,time_ms,passed,tests,error'
ok $? "grade --csv: a header and one row per submission"
python3 - r.xml <<'PY' 2>"$work/py"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites" and root.get("tests") == "9", root.attrib
suites = {s.get("name"): s for s in root.findall("testsuite")}
assert len(suites["good.py"].findall("testcase")) == 3
assert not suites["good.py"].findall(".//failure")
wa = [f.get("type") for f in suites["wa.c"].findall(".//failure")]
assert wa == ["WA", "WA"], wa
assert [f.get("type") for f in suites["ce.c"].findall(".//failure")] == ["CE"] * 3
assert "undeclared" in suites["ce.c"].find("system-err").text
PY
ok $? "grade --junit: well-formed, one testcase per test per submission"
sed 's/^/# /' "$work/py"
mkdir -p good && cp subs/good.py good/
run grade good --tests tests --checker tokens
expect 0 "grade of AC submissions only: exit 0" "$(has "$out" "1 accepted"; echo $?)"
run grade subs --tests nonexistent
expect 2 "grade with a missing tests directory: exit 2"

echo "1..$n"
[ $failed = 0 ]
