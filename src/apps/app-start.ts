/**
 * The script that starts an app in a session's container (run as root by the engine's exec,
 * arguments as "$@", never spliced into the text): unless something listens on ADDRESS:PORT
 * already, the app's command runs as the session's user (setpriv, in her home, a session of its
 * own), its output in /run/sandman-apps/NAME.log; it waits until the app listens (60 s at most).
 * The app's token is made once per container, kept root-only in /run/sandman-apps, given to the
 * app in its environment (TOKEN_ENV) and printed for the proxy, which adds it to each request.
 *
 * Arguments: NAME ADDRESS PORT TOKEN_ENV COMMAND...
 */
export const APP_START_SCRIPT = String.raw`set -eu
name=$1 address=$2 port=$3 token_env=$4
shift 4
dir=/run/sandman-apps
umask 077
mkdir -p "$dir"
[ -s "$dir/$name.token" ] || od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$dir/$name.token"
token=$(cat "$dir/$name.token")
up() {
  python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
    "$address" "$port" 2>/dev/null
}
if ! up; then
  user=$SANDMAN_USER
  home=/home/$user
  cd "$home"
  setsid setpriv --reuid="$SANDMAN_UID" --regid="$(id -g "$user")" --init-groups \
    env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash LANG=C.UTF-8 PATH="$PATH" \
    "$token_env=$token" "$@" </dev/null >>"$dir/$name.log" 2>&1 &
  tries=0
  until up; do
    tries=$((tries + 1))
    if [ "$tries" -ge 120 ]; then
      echo "$name is not listening on $address:$port after 60 s; the end of its log:" >&2
      tail -n 20 "$dir/$name.log" >&2
      exit 1
    fi
    sleep 0.5
  done
fi
printf '%s\n' "$token"
`;
