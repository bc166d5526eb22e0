#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Side-by-side ingest benchmark: the same syslog load, on the same machine, into
#   floor   - bench/e2e/recvmmsg_floor, a bare recvmmsg loop (UDP only): the cost of the socket
#   rsyslog - rsyslogd with its own config and work dir in a temp folder, imudp/imtcp to a file
#   sluice  - `sluice run` with a generated TOML config (no rules, events to /dev/null)
# For each receiver and protocol: start it, blast COUNT messages with `sluice blast`, wait until
# it has drained (socket queue empty, output size and CPU time still), read its CPU time from
# /proc/<pid>/stat and its kernel drops from /proc/net/udp, stop it, and count what it received.
# Prints one row per run, then the median (min-max) per receiver and the ratios.
#
# Knobs (environment): BUILD, SLUICE, FLOOR, RSYSLOGD, COUNT, RUNS, RATE, PROTOCOLS, RECEIVERS,
# FRAMING, CONNECTIONS, PORT, RCVBUF, STABLE_SECONDS, IDLE_TICKS, KEEP, SLUICE_WORKERS,
# SLUICE_EVENTS. See bench/e2e/README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
SLUICE=${SLUICE:-$BUILD/tools/sluice}
FLOOR=${FLOOR:-$BUILD/bench/e2e/recvmmsg_floor}
RSYSLOGD=${RSYSLOGD:-/usr/sbin/rsyslogd}
COUNT=${COUNT:-1000000}
RUNS=${RUNS:-3}
RATE=${RATE:-0}
PROTOCOLS=${PROTOCOLS:-"udp tcp"}
RECEIVERS=${RECEIVERS:-"floor rsyslog sluice"}
FRAMING=${FRAMING:-octet}
CONNECTIONS=${CONNECTIONS:-1}
# Not 5514: other tests and demos on a shared machine send there.
PORT=${PORT:-15514}
RCVBUF=${RCVBUF:-8388608}
STABLE_SECONDS=${STABLE_SECONDS:-1.0}
IDLE_TICKS=${IDLE_TICKS:-2}
KEEP=${KEEP:-0}
# Sluice's worker threads, and where it writes its events as JSON lines ("" = no event output:
# parse and count only).
SLUICE_WORKERS=${SLUICE_WORKERS:-1}
SLUICE_EVENTS=${SLUICE_EVENTS-/dev/null}

die() { echo "ingest_vs_rsyslog: $*" >&2; exit 1; }
[[ -x $SLUICE ]] || die "no sluice binary at $SLUICE (set BUILD or SLUICE)"
for receiver in $RECEIVERS; do
  case $receiver in
    floor) [[ -x $FLOOR ]] || die "no recvmmsg_floor at $FLOOR (ninja recvmmsg_floor)" ;;
    rsyslog) [[ -x $RSYSLOGD ]] || die "no rsyslogd at $RSYSLOGD (tools/setup installs it)" ;;
    sluice) "$SLUICE" run --help >/dev/null 2>&1 || die "'$SLUICE run' is not available" ;;
    *) die "unknown receiver '$receiver'" ;;
  esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-ingest.XXXXXX")
receiver_pid=""
cleanup() {
  if [[ -n $receiver_pid ]] && kill -0 "$receiver_pid" 2>/dev/null; then
    kill -KILL "$receiver_pid" 2>/dev/null || true
  fi
  if [[ $KEEP == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

clk_tck=$(getconf CLK_TCK)
port_hex=$(printf '%04X' "$PORT")

# The same messages for every receiver: the demo corpus, generated once. A file of up to 2^18
# lines (the size `sluice blast` would generate itself) is looped to COUNT messages, so the
# generator's own time stays out of the measured window.
corpus_lines=$((COUNT < 262144 ? COUNT : 262144))
"$SLUICE" blast --print --count "$corpus_lines" >"$work/corpus.log"

# utime + stime of all threads of a process, in clock ticks.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  stat=${stat##*) }  # fields after the command name, which may hold spaces
  set -- $stat
  echo $((${12} + ${13}))
}

# Drops column of /proc/net/udp, summed over the sockets bound to PORT.
udp_drops() {
  awk -v port=":$port_hex" 'NR > 1 && substr($2, length($2) - 4) == port { sum += $13 }
    END { printf "%d\n", sum }' /proc/net/udp
}
# Bytes waiting in the receive queues of the sockets bound to PORT (table udp or tcp). The queue
# is hex; mawk cannot read hex, so the shell adds it up.
socket_rx_queue() {
  local table=$1 total=0 hex
  while read -r hex; do total=$((total + 16#$hex)); done < <(
    awk -v port=":$port_hex" 'NR > 1 && substr($2, length($2) - 4) == port {
      split($5, q, ":"); print q[2] }' "/proc/net/$table")
  echo "$total"
}

# Waits until a socket is bound to PORT (UDP) or listening on it (TCP, state 0A).
wait_listening() {
  local table=$1 state=07
  [[ $table == tcp ]] && state=0A
  for _ in $(seq 200); do
    if awk -v port=":$port_hex" -v st="$state" '
        NR > 1 && substr($2, length($2) - 4) == port && $4 == st { found = 1 }
        END { exit !found }' "/proc/net/$table"; then
      return 0
    fi
    kill -0 "$receiver_pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

now() { date +%s.%N; }

# Waits until the receiver has been idle for STABLE_SECONDS: its socket queue empty, its output
# file (rsyslog) not growing, and its CPU time growing by less than IDLE_TICKS per 100 ms poll
# (an idle receiver may still tick: timers, polling loops). Sets last_activity to the time of the
# last busy poll and ticks_at_activity to the receiver's CPU ticks then.
wait_drained() {
  local proto=$1 output=$2 previous_size=-1 previous_ticks stable_since t queue size ticks
  previous_ticks=$(cpu_ticks "$receiver_pid")
  stable_since=$(now)
  last_activity=$stable_since
  ticks_at_activity=$previous_ticks
  while :; do
    sleep 0.1
    queue=$(socket_rx_queue "$proto")
    size=0
    [[ -n $output && -f $output ]] && size=$(stat -c %s "$output")
    ticks=$(cpu_ticks "$receiver_pid")
    t=$(now)
    if ((queue != 0 || size != previous_size || ticks - previous_ticks >= IDLE_TICKS)); then
      stable_since=$t
      last_activity=$t
      ticks_at_activity=$ticks
    elif awk -v a="$t" -v b="$stable_since" -v s="$STABLE_SECONDS" 'BEGIN { exit !(a - b >= s) }'; then
      return 0
    fi
    previous_size=$size
    previous_ticks=$ticks
  done
}

start_receiver() {
  local receiver=$1 proto=$2 dir=$3
  mkdir -p "$dir"
  case $receiver in
    floor)
      "$FLOOR" --port "$PORT" --rcvbuf "$RCVBUF" >"$dir/stdout" 2>"$dir/stderr" &
      ;;
    rsyslog)
      mkdir -p "$dir/work"
      local input
      if [[ $proto == udp ]]; then
        input="module(load=\"imudp\")
input(type=\"imudp\" address=\"127.0.0.1\" port=\"$PORT\" rcvBufSize=\"$RCVBUF\")"
      else
        input="module(load=\"imtcp\")
input(type=\"imtcp\" address=\"127.0.0.1\" port=\"$PORT\")"
      fi
      cat >"$dir/rsyslog.conf" <<EOF
global(workDirectory="$dir/work" maxMessageSize="64k")
$input
template(name="plain" type="string" string="%TIMESTAMP% %HOSTNAME% %syslogtag%%msg%\n")
action(type="omfile" file="$dir/out.log" template="plain")
EOF
      "$RSYSLOGD" -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/stdout" 2>"$dir/stderr" &
      ;;
    sluice)
      local buffer="" events=""
      [[ $proto == udp ]] && buffer="receive_buffer_bytes = $RCVBUF"
      [[ -n $SLUICE_EVENTS ]] && events=$'[output.events]\npath = "'"$SLUICE_EVENTS"'"'
      cat >"$dir/sluice.toml" <<EOF
[general]
workers = $SLUICE_WORKERS
summary_interval_seconds = 0
[parser]
format = "auto"
[[input]]
type = "$proto"
address = "127.0.0.1"
port = $PORT
$buffer
$events
[metrics]
listen = ""
EOF
      "$SLUICE" run --config "$dir/sluice.toml" >"$dir/stdout" 2>"$dir/stderr" &
      ;;
  esac
  receiver_pid=$!
}

stop_receiver() {
  kill -TERM "$receiver_pid" 2>/dev/null || true
  for _ in $(seq 300); do
    kill -0 "$receiver_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$receiver_pid" 2>/dev/null || true
  wait "$receiver_pid" 2>/dev/null || true
  receiver_pid=""
}

json_field() { grep -o "\"$1\":[0-9.]*" | head -n 1 | cut -d: -f2; }

results="$work/results.tsv"
: >"$results"
printf '%-4s %-8s %3s %9s %9s %9s %8s %7s %8s %9s %11s\n' proto receiver run sent received \
  kdrops appdrops lost cpu_s us/msg rate/s
for proto in $PROTOCOLS; do
  for receiver in $RECEIVERS; do
    [[ $receiver == floor && $proto != udp ]] && continue
    for run in $(seq "$RUNS"); do
      dir="$work/$proto-$receiver-$run"
      start_receiver "$receiver" "$proto" "$dir"
      wait_listening "$proto" || { cat "$dir/stderr" >&2; die "$receiver did not listen on $PORT"; }
      drops_before=0
      [[ $proto == udp ]] && drops_before=$(udp_drops)
      ticks_before=$(cpu_ticks "$receiver_pid")
      blast_args=(--"$proto" "127.0.0.1:$PORT" --corpus "$work/corpus.log" --loop --count "$COUNT"
        --rate "$RATE" --connections "$CONNECTIONS")
      [[ $proto == tcp ]] && blast_args+=(--framing "$FRAMING")
      t0=$(now)
      blast_json=$("$SLUICE" blast "${blast_args[@]}")
      output=""
      [[ $receiver == rsyslog ]] && output="$dir/out.log"
      wait_drained "$proto" "$output"
      ticks_after=$ticks_at_activity
      kdrops=0
      [[ $proto == udp ]] && kdrops=$(($(udp_drops) - drops_before))
      stop_receiver
      sent=$(json_field sent <<<"$blast_json")
      appdrops=0
      case $receiver in
        floor) received=$(json_field received <"$dir/stdout") ;;
        rsyslog) received=$(wc -l <"$dir/out.log") ;;
        sluice)
          # `events` counts every record read plus kernel drops; `dropped` is ring_full (the
          # workers fell behind, counted by sluice) plus socket_buffer (the kernel drops that
          # kdrops shows too). What sluice processed is parsed + unparsed.
          summary=$(tail -n 1 "$dir/stderr")
          parsed=$(json_field parsed <<<"$summary")
          unparsed=$(json_field unparsed <<<"$summary")
          appdrops=$(json_field dropped_ring_full <<<"$summary")
          [[ -n $parsed && -n $unparsed && -n $appdrops ]] ||
            { cat "$dir/stderr" >&2; die "no summary line from sluice run"; }
          received=$((parsed + unparsed))
          ;;
      esac
      cpu=$(awk -v a="$ticks_after" -v b="$ticks_before" -v hz="$clk_tck" 'BEGIN { printf "%.2f", (a - b) / hz }')
      wall=$(awk -v a="$last_activity" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
      lost=$((sent - received - kdrops - appdrops))
      us=$(awk -v c="$cpu" -v n="$received" 'BEGIN { printf "%.3f", (n > 0 ? c * 1e6 / n : 0) }')
      rate=$(awk -v n="$received" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
      printf '%-4s %-8s %3s %9s %9s %9s %8s %7s %8s %9s %11s\n' "$proto" "$receiver" "$run" \
        "$sent" "$received" "$kdrops" "$appdrops" "$lost" "$cpu" "$us" "$rate"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$proto" "$receiver" "$received" "$kdrops" "$cpu" \
        "$us" "$rate" >>"$results"
      if [[ $proto == tcp && $received != "$sent" ]]; then
        echo "  WARNING: TCP is lossless but $receiver received $received of $sent" >&2
      fi
    done
  done
done

# median (min-max) of column $3 for rows matching proto $1 and receiver $2.
stat_of() {
  awk -F'\t' -v p="$1" -v r="$2" -v c="$3" '$1 == p && $2 == r { print $c }' "$results" |
    sort -g | awk '{ v[NR] = $1 } END {
      if (NR == 0) exit
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s %s %s\n", m, v[1], v[NR] }'
}
median_of() { stat_of "$@" | cut -d' ' -f1; }

echo
echo "median (min-max) over $RUNS runs of $COUNT messages; rate ${RATE}/s (0 = flat out);" \
  "CPU = receiver utime+stime"
printf '%-4s %-8s %22s %24s %26s\n' proto receiver received us/msg rate/s
for proto in $PROTOCOLS; do
  for receiver in $RECEIVERS; do
    [[ $receiver == floor && $proto != udp ]] && continue
    read -r rm rlo rhi < <(stat_of "$proto" "$receiver" 3)
    read -r um ulo uhi < <(stat_of "$proto" "$receiver" 6)
    read -r qm qlo qhi < <(stat_of "$proto" "$receiver" 7)
    printf '%-4s %-8s %9s (%s-%s) %8s (%s-%s) %9s (%s-%s)\n' "$proto" "$receiver" \
      "$rm" "$rlo" "$rhi" "$um" "$ulo" "$uhi" "$qm" "$qlo" "$qhi"
  done
done

ratio() {
  local a b
  a=$(median_of "$1" "$2" "$4")
  b=$(median_of "$1" "$3" "$4")
  [[ -n $a && -n $b ]] || return 0
  awk -v a="$a" -v b="$b" -v label="$5" 'BEGIN { if (b > 0) printf "%-40s %.2fx\n", label, a / b }'
}
echo
ratio udp sluice floor 6 "UDP CPU us/msg: sluice / floor"
ratio udp sluice rsyslog 6 "UDP CPU us/msg: sluice / rsyslog"
ratio udp rsyslog floor 6 "UDP CPU us/msg: rsyslog / floor"
ratio tcp sluice rsyslog 6 "TCP CPU us/msg: sluice / rsyslog"
ratio tcp sluice rsyslog 7 "TCP rate: sluice / rsyslog"
