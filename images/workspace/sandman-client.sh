#!/bin/sh
# sandman inside a session (docs/admin/sessions.md "The in-session command"): a pipe to the
# host. It sends its arguments with this session's credential to the host's listener (sandman
# self-serve), which parses them, acts within the user's limits and answers with the text to print
# and the exit code. No Node.js here: POSIX sh with curl, else bash's /dev/tcp, over HTTP/1.0.
set -u

files=/etc/sandman/session
say() { printf 'sandman: %s\n' "$*" >&2; }

if [ ! -s "$files/self-url" ]; then
  say "not available in this session: it has no channel to the host's sandman (Swarm mode, or selfServicePort is 0 on this host; see docs/user/inside-your-session.md)"
  exit 2
fi
if ! token=$(cat "$files/self-token" 2>/dev/null) || [ -z "$token" ]; then
  say "cannot read this session's credential $files/self-token (only the session's user can)"
  exit 2
fi
url=$(cat "$files/self-url")

# The arguments as a JSON array; a word holding a control character is refused here.
nl='
'
tab=$(printf '\t')
cr=$(printf '\r')
argv=""
for word in "$@"; do
  case "$word" in *"$nl"* | *"$tab"* | *"$cr"*)
    say "arguments may not hold newlines or tabs"
    exit 2 ;;
  esac
  escaped=$(printf '%s' "$word" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
  argv="$argv${argv:+,}\"$escaped\""
done
tty=false
[ -t 1 ] && tty=true
body="{\"argv\":[$argv],\"tty\":$tty}"

work=$(mktemp -d 2>/dev/null || { d="/tmp/sandman.$$"; mkdir -m 0700 "$d" && echo "$d"; }) || exit 1
trap 'rm -rf "$work"' EXIT
headers="$work/headers"
out="$work/body"

if command -v curl >/dev/null 2>&1; then
  curl -sS -0 --connect-timeout 10 --max-time 600 -X POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$body" -D "$headers" -o "$out" "$url/run" 2>"$work/error"
  sent=$?
  # 7: nothing listens; 52/56: the host closed the connection without an answer.
  case $sent in
    0) ;;
    7) say "the host's sandman does not answer at $url ($(cat "$work/error"))"; exit 6 ;;
    52 | 56) : > "$headers" ;;
    *) say "cannot reach the host's sandman at $url: $(cat "$work/error")"; exit 6 ;;
  esac
elif command -v bash >/dev/null 2>&1; then
  hostport=${url#http://}
  path="/${hostport#*/}/run"
  hostport=${hostport%%/*}
  host=${hostport%:*}
  port=${hostport##*:}
  host=${host#[}
  host=${host%]}
  length=$(printf '%s' "$body" | wc -c | tr -d ' ')
  request=$(printf 'POST %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\n\r\n%s' \
    "$path" "$hostport" "$token" "$length" "$body")
  if ! SANDMAN_REQUEST="$request" bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%s" "$SANDMAN_REQUEST" >&3 && cat <&3' \
    sandman "$host" "$port" > "$work/raw" 2>"$work/error"; then
    [ -s "$work/raw" ] || { say "the host's sandman does not answer at $url"; exit 6; }
  fi
  awk -v headers="$headers" -v out="$out" \
    'part == 0 && /^\r?$/ { part = 1; next } part == 0 { print > headers; next } { print > out }' "$work/raw"
else
  say "needs curl or bash to reach the host"
  exit 6
fi

header() { sed -n "s/^[Xx]-[Ss]andman-$1: *\\([A-Za-z0-9]*\\).*/\\1/p" "$headers" 2>/dev/null | head -n 1; }
code=$(header exit)
if [ -z "$code" ]; then
  say "the host refused this session's credential (a stopped, expired or removed session's, or not this session's address)"
  exit 3
fi
if [ "$(header stream)" = stderr ]; then cat "$out" >&2; else cat "$out"; fi
exit "$code"
