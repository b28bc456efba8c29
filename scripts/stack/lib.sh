# Shared helpers for the stack scripts (sourced, not run).

# Wait until "$@" succeeds, polling every 0.25 s, for at most $timeout seconds.
# Returns 1 on timeout so the caller can name the component and its log.
wait_until() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# Is the process in pid file $1 alive?
pid_alive() {
  [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

# Stop the process in pid file $1 (SIGTERM, then SIGKILL after $2 seconds) and remove the file.
stop_pid() {
  local pidfile=$1 grace=${2:-30} pid
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 1; }
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  wait_until "$grace" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# Print "<component>: failed to start — see <log>" and the log's tail to stderr, then exit 1.
fail_with_log() {
  local component=$1 log=$2
  {
    echo "$component: failed to start — see $log"
    [[ -f $log ]] && tail -n 30 "$log"
  } >&2
  exit 1
}
