#!/bin/sh
# Tries vmrun as a new user would on a fresh Debian 12: debootstraps a root,
# installs only nodejs, npm, git and ca-certificates there, clones this
# checkout's committed branch into /root/vmrun and runs the README's two
# commands as root (the demo in a terminal, typing q; then every test).
# Prints what passed, the test summary and whether the tree stayed clean.
#
#   sudo tests/fresh_debian.sh [--demo-only] [--keep]
#
# Needs root, /dev/kvm and Debian's mirror (the host's apt sources name it).
# The root gets its own /dev with the host's /dev/kvm bound in, /proc and /sys.
# The host's apt sources, CA certificates and npm configuration are copied
# in, as a user's machine would have its own. The debootstrapped base is kept
# in $VMRUN_FRESH_CACHE (default /var/tmp/vmrun-fresh-base.tar), and the
# root with the four packages beside it (...-node.tar), for later runs (delete
# them for a new debootstrap and new packages); the root itself ($VMRUN_FRESH_ROOT, default /var/tmp/vmrun-fresh) is
# removed at the end unless --keep is given.
set -eu

demo_only=false
keep=false
for arg in "$@"; do
  case $arg in
    --demo-only) demo_only=true ;;
    --keep) keep=true ;;
    *) echo "usage: $0 [--demo-only] [--keep]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "fresh_debian: run as root (debootstrap, chroot, mounts)" >&2; exit 2; }
checkout=$(cd "$(dirname "$0")/.." && pwd)
root=${VMRUN_FRESH_ROOT:-/var/tmp/vmrun-fresh}
cache=${VMRUN_FRESH_CACHE:-/var/tmp/vmrun-fresh-base.tar}
log() { printf 'fresh_debian: %s\n' "$*" >&2; }

# The mirror the host's apt uses for Debian itself.
mirror=$(sed -n 's/^URIs:[[:space:]]*\(.*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
  2>/dev/null | head -n 1)
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)[[:space:]].*/\2/p' \
    /etc/apt/sources.list 2>/dev/null | head -n 1)
fi
mirror=${mirror:-http://deb.debian.org/debian}

unmount_all() {
  for m in dev/kvm dev/pts dev/shm dev proc sys; do
    if mountpoint -q "$root/$m" 2>/dev/null; then umount -l "$root/$m"; fi
  done
}
remove_root() { # never through a mount that is still there
  if grep -q " $root/" /proc/mounts; then
    log "$root still has mounts: not removing it"
  else
    rm -rf "$root"
  fi
}
cleanup() {
  unmount_all
  if ! $keep; then remove_root; fi
}

if [ -e "$root" ]; then
  unmount_all
  remove_root
  [ ! -e "$root" ] || exit 1
fi
trap cleanup EXIT INT TERM
mkdir -p "$root"

# A /dev of its own (the host's stays untouched by whatever runs inside),
# with the host's /dev/kvm bound in; /proc and /sys.
mount_all() {
  mount -t tmpfs -o mode=755,nosuid tmpfs "$root/dev"
  for node in "null c 1 3" "zero c 1 5" "full c 1 7" "random c 1 8" "urandom c 1 9" \
    "tty c 5 0"; do
    # shellcheck disable=SC2086
    set -- $node
    mknod -m 666 "$root/dev/$1" "$2" "$3" "$4"
  done
  mkdir -m 755 "$root/dev/pts"
  mkdir -m 1777 "$root/dev/shm"
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts "$root/dev/pts"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
  ln -s pts/ptmx "$root/dev/ptmx"
  ln -s /proc/self/fd "$root/dev/fd"
  ln -s /proc/self/fd/0 "$root/dev/stdin"
  ln -s /proc/self/fd/1 "$root/dev/stdout"
  ln -s /proc/self/fd/2 "$root/dev/stderr"
  touch "$root/dev/kvm"
  mount --bind /dev/kvm "$root/dev/kvm"
  mount -t proc proc "$root/proc"
  mount --bind /sys "$root/sys"
}

# The environment a root login has, plus the host's CA variables.
set -- HOME=/root TERM=xterm-256color LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
for v in SSL_CERT_FILE SSL_CERT_DIR NODE_EXTRA_CA_CERTS DENO_CERT DENO_TLS_CA_STORE \
  http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  eval "val=\${$v:-}"
  [ -n "$val" ] && set -- "$@" "$v=$val"
done
env_args="$*"
run() { # run <shell command> in the fresh root, as root in /root
  # shellcheck disable=SC2086
  chroot "$root" env -i $env_args sh -c "cd /root && $1"
}

# The fresh machine: debootstrap, the host's apt sources and settings and CA
# certificates (a proxy's CA among them), then nodejs npm git ca-certificates.
# Both stages are cached as tar files for later runs.
with_node=${cache%.tar}-node.tar
if [ -f "$with_node" ]; then
  log "unpacking the fresh root with nodejs npm git ca-certificates from $with_node"
  tar -xpf "$with_node" -C "$root"
  mount_all
else
  if [ -f "$cache" ]; then
    log "unpacking the debootstrapped base from $cache"
    tar -xpf "$cache" -C "$root"
  else
    if ! command -v debootstrap >/dev/null; then
      log "installing debootstrap"
      apt-get install -y -q debootstrap >/dev/null || {
        apt-get update -q >/dev/null
        apt-get install -y -q debootstrap >/dev/null
      }
    fi
    log "debootstrap bookworm from $mirror (a few minutes)"
    debootstrap bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
      tail -n 20 "$root.debootstrap.log" >&2
      exit 1
    }
    tar -cpf "$cache.tmp" -C "$root" . && mv "$cache.tmp" "$cache"
  fi
  rm -f "$root/etc/apt/sources.list"
  cp -a /etc/apt/sources.list "$root/etc/apt/" 2>/dev/null || true
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
    if [ -f "$f" ]; then cp -a "$f" "$root/etc/apt/sources.list.d/"; fi
  done
  for f in /etc/apt/apt.conf.d/*; do
    if [ -f "$f" ]; then cp -a "$f" "$root/etc/apt/apt.conf.d/"; fi
  done
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" \
    2>/dev/null || true
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount_all
  log "apt-get install nodejs npm git ca-certificates (a few minutes)"
  run "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    nodejs npm git ca-certificates >/tmp/apt.log 2>&1 || { tail -n 20 /tmp/apt.log; exit 1; }"
  run "update-ca-certificates >/dev/null 2>&1"
  unmount_all
  tar -cpf "$with_node.tmp" -C "$root" . && mv "$with_node.tmp" "$with_node"
  mount_all
fi

# The host's npm configuration: user and global files, and the registry.
[ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$root/root/.npmrc"
host_global=$(npm config get globalconfig 2>/dev/null || true)
fresh_global=$(run "npm config get globalconfig" 2>/dev/null || true)
if [ -n "$host_global" ] && [ -f "$host_global" ] && [ -n "$fresh_global" ]; then
  mkdir -p "$root$(dirname "$fresh_global")"
  cp "$host_global" "$root$fresh_global"
fi
registry=$(npm config get registry 2>/dev/null || true)
if [ -n "$registry" ] && [ "$registry" != "https://registry.npmjs.org/" ]; then
  run "npm config set registry '$registry'"
fi
node_version=$(run "node --version")
npm_version=$(run "npm --version")
log "node $node_version, npm $npm_version"

branch=$(git -C "$checkout" rev-parse --abbrev-ref HEAD)
commit=$(git -C "$checkout" rev-parse --short HEAD)
log "cloning $branch ($commit) into /root/vmrun"
git clone -q --no-local --branch "$branch" "$checkout" "$root/root/vmrun"

# 1. The demo, in a 100x37 terminal: once the guest idles (the console's
# status reads "halted": it printed its banner and waits for keys), type
# "hi", then q until it powers off; it says "bye" first.
log "README command 1: npm install && npx deno task demo"
transcript=$root/tmp/demo.typescript
rm -f "$transcript"
demo_start=$(date +%s)
set +e
(
  waited=0
  until grep -qa " halted " "$transcript" 2>/dev/null || [ "$waited" -ge 900 ]; do
    sleep 1
    waited=$((waited + 1))
  done
  sleep 1
  printf hi
  while sleep 2; do printf q; done
) | run "cd vmrun && timeout 900 script -qefc 'stty cols 100 rows 37; npm install && npx deno task demo' \
  /tmp/demo.typescript >/dev/null"
demo_status=$?
set -e
demo_secs=$(($(date +%s) - demo_start))
cp "$transcript" "$root.demo.log" 2>/dev/null || true
# Status 0 comes only from the guest powering off on q (nothing types
# Ctrl-a x); the console's status line read "halted" (the guest idled in its
# key loop) and "stopped" (the run ended). The guest's last words ("bye")
# may not be drawn before the console closes, and longer text such as
# SeaBIOS's banner may be split by the console's redraws, so neither is asked.
if [ "$demo_status" = 0 ] && grep -qa " halted " "$root.demo.log" &&
  grep -qa " stopped " "$root.demo.log"; then
  demo=pass
else
  demo=FAIL
fi
log "demo: $demo (status $demo_status, ${demo_secs}s; transcript $root.demo.log)"

tests=skipped
test_status=-
test_secs=0
summary=
if ! $demo_only; then
  log "README command 2: npx deno task test (several minutes)"
  test_start=$(date +%s)
  set +e
  run "cd vmrun && npm install && npx deno task test" </dev/null >"$root.test.log" 2>&1
  test_status=$?
  set -e
  test_secs=$(($(date +%s) - test_start))
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$root.test.log" | grep -E '^(ok|FAILED) \|' | tail -n 1)
  if [ "$test_status" = 0 ]; then tests=pass; else tests=FAIL; fi
  log "tests: $tests (status $test_status, ${test_secs}s): $summary (log $root.test.log)"
fi

dirty=$(run "cd vmrun && git status --porcelain --untracked-files=all")
if [ -z "$dirty" ]; then clean=yes; else clean=no; fi

echo "fresh Debian 12 (node $node_version, npm $npm_version), vmrun $branch $commit"
echo "  demo:  $demo (status $demo_status, ${demo_secs}s)"
echo "  tests: $tests (status $test_status, ${test_secs}s) $summary"
echo "  git status clean afterwards: $clean"
[ -n "$dirty" ] && printf '%s\n' "$dirty" | sed 's/^/    /'
[ "$demo" = pass ] && [ "$tests" != FAIL ] && [ "$clean" = yes ]
