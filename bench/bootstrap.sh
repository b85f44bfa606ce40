#!/usr/bin/env bash
# Installs what `npm run bench` needs when it is missing: Dovecot (IMAP server and doveadm),
# isync (mbsync), GNU time (peak RSS and CPU of each tool) and openssl (test certificates).
# Non-interactive; needs root or sudo. `npm run bench` calls it when a binary is missing.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
have dovecot || need+=(dovecot-core dovecot-imapd)
have doveadm || need+=(dovecot-core)
have mbsync || need+=(isync)
[ -x /usr/bin/time ] || need+=(time)
have openssl || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  echo "bench/bootstrap.sh: dovecot, doveadm, mbsync, time and openssl are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "bench/bootstrap.sh: need root (or sudo) to install: ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench/bootstrap.sh: no apt-get here; install these packages by hand: ${need[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "bench/bootstrap.sh: installing ${need[*]}"
"${sudo[@]}" apt-get update -q
# Dovecot's package would start a system-wide server where an init system exists; the bench runs
# its own instances on free loopback ports, so a system one is harmless but not needed.
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
