#!/bin/sh
# sandman workspace entrypoint: creates the session user with the uid sandman chose, installs the
# authorised key, writes a locked-down sshd configuration and runs sshd in the foreground.
# POSIX sh only: it must run on Debian and Ubuntu bases alike.
# It runs again on every restart of the container (docker restart, dockerd restart, host reboot):
# each step leaves what an earlier run made as it is, so the session comes back with the same
# user, key, host identity and password (docs/admin/reaper.md "Host restarts and reboots").
set -eu

die() { echo "sandman-entrypoint: $*" >&2; exit 1; }

: "${SANDMAN_USER:?SANDMAN_USER is not set}"
: "${SANDMAN_UID:?SANDMAN_UID is not set}"
# A batch job (SANDMAN_JOB_ID, docs/admin/jobs.md) has no sshd and so no keys.
[ -n "${SANDMAN_JOB_ID:-}" ] || : "${SANDMAN_AUTHORIZED_KEYS:?SANDMAN_AUTHORIZED_KEYS is not set}"
PASSWORD_AUTH="${SANDMAN_PASSWORD_AUTH:-no}"

case "$SANDMAN_USER" in
  ''|*[!a-z0-9_-]*) die "invalid user name" ;;
esac
case "$SANDMAN_UID" in
  ''|*[!0-9]*) die "invalid uid" ;;
esac

home="/home/$SANDMAN_USER"
shell=/bin/sh
[ -x /bin/bash ] && shell=/bin/bash

if [ "$(id -u "$SANDMAN_USER" 2>/dev/null)" = "$SANDMAN_UID" ]; then
  # A restart: the account (and a --password set with chpasswd) is already there.
  group=$(id -g "$SANDMAN_USER")
else
  # A base image may already have an account of that name (e.g. "ubuntu"): the session's wins.
  if getent passwd "$SANDMAN_USER" >/dev/null 2>&1; then
    userdel "$SANDMAN_USER" >/dev/null 2>&1 || true
  fi
  if getent group "$SANDMAN_USER" >/dev/null 2>&1; then
    groupdel "$SANDMAN_USER" >/dev/null 2>&1 || true
  fi
  if ! getent group "$SANDMAN_UID" >/dev/null 2>&1; then
    groupadd -g "$SANDMAN_UID" "$SANDMAN_USER"
    group="$SANDMAN_USER"
  else
    group="$SANDMAN_UID"
  fi
  # -M: the home directory is the workspace bind mount, created and owned by sandman on the host.
  useradd -M -d "$home" -s "$shell" -u "$SANDMAN_UID" -g "$group" -o "$SANDMAN_USER"
  # "*" = no password but not locked: OpenSSH refuses key logins to a locked ("!") account.
  usermod -p '*' "$SANDMAN_USER"
fi
[ -d "$home" ] || die "workspace is not mounted at $home"
# Swarm mode: the home is a named volume the node made empty and root-owned at the first start.
[ "$(stat -c %u "$home")" = "$SANDMAN_UID" ] || { chown "$SANDMAN_UID:$group" "$home" && chmod 0700 "$home"; }

# A batch job: the same account and home as a session, then its command as her in place of sshd,
# from its working directory (entered as her), without privileges (setpriv clears the capabilities
# a uid change leaves none of, and no_new_privs keeps it so).
if [ -n "${SANDMAN_JOB_ID:-}" ]; then
  [ "$#" -gt 0 ] || die "a job needs a command"
  command -v setpriv >/dev/null 2>&1 || die "the image has no setpriv (util-linux): jobs cannot drop to the user"
  workdir="${SANDMAN_JOB_WORKDIR:-$home}"
  export HOME="$home" USER="$SANDMAN_USER" LOGNAME="$SANDMAN_USER" SHELL="$shell"
  unset SANDMAN_AUTHORIZED_KEYS SANDMAN_BANNER
  exec setpriv --reuid="$SANDMAN_UID" --regid="$(id -g "$SANDMAN_USER")" --init-groups --no-new-privs \
    sh -c 'cd "$0" || exit 126; exec "$@"' "$workdir" "$@"
fi

# Keys live outside the persistent home, root-owned, so an old session's key never opens a new one.
# Each line carries expiry-time. A sandman that knows this image mounts the session's files
# read-only (its authorized_keys and login banner, rewritten on the host by extend and start);
# otherwise they are written here from the environment once, and `sandman session extend` rewrites
# them inside, so a restart keeps the file it finds rather than the creation-time value.
session_files=/etc/sandman/session
if [ -s "$session_files/authorized_keys" ]; then
  keys="$session_files/authorized_keys"
else
  mkdir -p /etc/ssh/sandman_authorized_keys
  keys="/etc/ssh/sandman_authorized_keys/$SANDMAN_USER"
  [ -s "$keys" ] || printf '%s\n' "$SANDMAN_AUTHORIZED_KEYS" > "$keys"
  chmod 0755 /etc/ssh/sandman_authorized_keys
  chmod 0644 "$keys"
fi

# First login into a new workspace: give it the usual dotfiles. The home is the user's, and may be
# written while this runs (by a host account of her uid, say): a link she planted or swaps in must
# not take root's cp or chown elsewhere. So the copy runs as her (setpriv), root writing nothing
# there; without setpriv, as root following no link (cp -P creates with O_EXCL, chown -h). A name
# that exists, even as a dangling link, is left as it is.
if [ -d /etc/skel ] && [ ! -e "$home/.profile" ] && [ ! -L "$home/.profile" ]; then
  for f in /etc/skel/.[!.]*; do
    [ -e "$f" ] || continue
    dest="$home/$(basename "$f")"
    if [ -e "$dest" ] || [ -L "$dest" ]; then continue; fi
    if command -v setpriv >/dev/null 2>&1; then
      setpriv --reuid="$SANDMAN_UID" --regid="$(id -g "$SANDMAN_USER")" --clear-groups cp -P "$f" "$dest" || true
    else
      { cp -P "$f" "$dest" && chown -h "$SANDMAN_UID:$group" "$dest"; } || true
    fi
  done
fi

# sshd resets the environment; carry the image's PATH and CUDA variables and the operator's --env
# values into login shells.
{
  echo "# written by sandman-entrypoint"
  for name in PATH LD_LIBRARY_PATH CUDA_VERSION NVIDIA_VISIBLE_DEVICES NVIDIA_DRIVER_CAPABILITIES $(echo "${SANDMAN_USER_ENV:-}" | tr ',' ' '); do
    eval "set_=\${$name+x}"
    if [ -n "$set_" ]; then
      eval "value=\$$name"
      escaped=$(printf '%s' "$value" | sed "s/'/'\\\\''/g")
      printf "export %s='%s'\n" "$name" "$escaped"
    fi
  done
} > /etc/profile.d/00-sandman-env.sh
chmod 0644 /etc/profile.d/00-sandman-env.sh
# A home nearly full under its quota: `sandman reap` writes the warning, login shells say it.
cat > /etc/profile.d/01-sandman-disk.sh <<'DISK'
# written by sandman-entrypoint
[ -s /etc/sandman/disk-warning ] && cat /etc/sandman/disk-warning >&2
DISK
chmod 0644 /etc/profile.d/01-sandman-disk.sh
# Commands run without a login shell (ssh host command) get the same values through sshd's SetEnv;
# values holding a double quote cannot be written there and reach login shells only.
setenv=""
for name in PATH LD_LIBRARY_PATH CUDA_VERSION NVIDIA_VISIBLE_DEVICES NVIDIA_DRIVER_CAPABILITIES $(echo "${SANDMAN_USER_ENV:-}" | tr ',' ' '); do
  eval "set_=\${$name+x}"
  [ -n "$set_" ] || continue
  eval "value=\$$name"
  case "$value" in *'"'*) continue ;; esac
  setenv="$setenv \"$name=$value\""
done

# The login banner: the session's file, or written once (`extend` rewrites it inside).
if [ -s "$session_files/motd" ]; then
  ln -sfn "$session_files/motd" /etc/motd
elif [ ! -e /etc/sandman/motd-written ]; then
  printf '%s\n' "${SANDMAN_BANNER:-sandman session}" > /etc/motd
  mkdir -p /etc/sandman && : > /etc/sandman/motd-written
fi

# The host key and its certificate from this host's sandman CA, put in place before the first
# start; without them (an older sandman), a key of the container's own, made once.
hostkey=/etc/ssh/sandman/ssh_host_ed25519_key
if [ ! -s "$hostkey" ]; then
  hostkey=/etc/ssh/ssh_host_ed25519_key
  [ -s "$hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$hostkey" <&- >/dev/null
fi
hostcert=""
[ -s "$hostkey-cert.pub" ] && hostcert="HostCertificate $hostkey-cert.pub"
mkdir -p /run/sshd
chmod 0755 /run/sshd

sftp=/usr/lib/openssh/sftp-server
[ -x "$sftp" ] || sftp=internal-sftp

cat > /etc/ssh/sshd_config <<CONFIG
# written by sandman-entrypoint
Port 22
HostKey $hostkey
$hostcert
PermitRootLogin no
AllowUsers $SANDMAN_USER
AuthorizedKeysFile $keys
PubkeyAuthentication yes
PasswordAuthentication $PASSWORD_AUTH
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
PrintMotd yes
PrintLastLog no
X11Forwarding no
AllowAgentForwarding yes
AllowTcpForwarding local
PermitUserEnvironment no
AcceptEnv LANG LC_*
Subsystem sftp $sftp
CONFIG
[ -z "$setenv" ] || echo "SetEnv$setenv" >> /etc/ssh/sshd_config

echo "sandman-entrypoint: session for $SANDMAN_USER (uid $SANDMAN_UID) ready, starting sshd"
# no_new_privs for sshd and every login: Docker sets it for a container (no-new-privileges), a
# Swarm service cannot ask for it on engines before API 1.46, so it is set here for both.
if command -v setpriv >/dev/null 2>&1; then
  exec setpriv --no-new-privs /usr/sbin/sshd -D -e
fi
exec /usr/sbin/sshd -D -e
