# Sourced by scripts/bench and scripts/bench-ab: where a server's time went, thread by thread,
# from /proc/PID/task/*/schedstat (nanoseconds on a core, nanoseconds queued for one). The
# writer, the log syncer and the checkpointer name their threads; the I/O threads are "http-io"
# and the process's main thread, which carries the executable's name.
#
#   server_threads PID [MAIN]   # "NAME ON_CORE QUEUED" per thread name, summed over threads of
#                               # that name; the main thread named MAIN when given (A/B runs
#                               # compare executables of different names)

server_threads() {
  local pid=$1 main=${2:-} task name
  for task in /proc/"$pid"/task/*; do
    name=$(cat "$task/comm" 2>/dev/null) || continue # the thread ended meanwhile
    [[ -n $main && ${task##*/} == "$pid" ]] && name=$main
    printf '%s %s\n' "$name" "$(cat "$task/schedstat" 2>/dev/null)"
  done | awk 'NF == 4 {on[$1] += $2; queued[$1] += $3} END {for (k in on) print k, on[k], queued[k]}' |
    sort
}
