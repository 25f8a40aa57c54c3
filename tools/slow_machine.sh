#!/usr/bin/env bash
# Run a command on a stand-in for a slower machine: one busy loop pinned to each core, at nice level $NICE
# (default -2), competes with every thread of the command for the whole run.
#
#     bash tools/slow_machine.sh ghostlive bench --live
#     NICE=2 bash tools/slow_machine.sh ghostlive bench
#
# Linux's scheduler shares a core by weight: at nice -2 (weight 1586 against a nice-0 thread's 1024) a thread
# of the command gets about 0.39 of a core while it runs, at nice 2 (weight 655) about 0.61. Checked against
# the machine issue 17 was measured on (2 cores without AVX-512), with the code it was filed against
# (67ab27c) on a 2-vCPU Intel Xeon: nice -2 reproduces its live loop (18.3 fps and 17.6 % dropped at 640x480,
# 11.4 fps at 1280x720, against the 17.4 fps, 16 % and 12.2 fps), nice 2 its photo bench (31.5 ms
# per 640x480 frame, against 33). A negative level needs root. The loops end with the command, also on Ctrl-C.
set -uo pipefail
NICE=${NICE:--2}
if [ $# -eq 0 ]; then
    echo "usage: [NICE=N] bash tools/slow_machine.sh COMMAND [ARGS...]" >&2
    exit 2
fi
pids=()
cleanup() { [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
trap 'exit 130' INT TERM
for ((core = 0; core < $(nproc); core++)); do
    nice -n "$NICE" taskset -c "$core" sh -c 'while :; do :; done' &
    pids+=($!)
done
sleep 0.5
"$@"
