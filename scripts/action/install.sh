#!/usr/bin/env bash
# Installs the teamsync release binary for this machine (docs/install.md, "GitHub Action").
#
# Downloads teamsync-vVERSION-TARGET.tar.gz (.zip on Windows) and SHA256SUMS from the release,
# checks the archive's SHA-256 against SHA256SUMS and refuses on a mismatch or a missing line,
# and only then puts the binary in place. It never builds from source unless
# TEAMSYNC_BUILD_FROM_SOURCE=true. Used by action.yml; runnable by hand and by tests/install.rs.
#
# Environment (all optional):
#   TEAMSYNC_VERSION            0.2.0 or v0.2.0; default: the version in this checkout's
#                               Cargo.toml, i.e. the release matching the action's ref
#   TEAMSYNC_REPOSITORY         OWNER/NAME whose releases to use; default: the action's own
#   TEAMSYNC_DOWNLOAD_BASE      default: $GITHUB_SERVER_URL/OWNER/NAME/releases/download;
#                               https only (plain http only to a loopback host, for tests)
#   TEAMSYNC_CACHE_DIR          verified archives are kept here (the action caches this folder);
#                               a cached archive is checked against a fresh SHA256SUMS every time
#   TEAMSYNC_INSTALL_DIR        where the binary goes
#   TEAMSYNC_BUILD_FROM_SOURCE  true: `cargo install --locked --path` this checkout instead
#   RUNNER_OS, RUNNER_ARCH      as GitHub sets them (Linux/macOS/Windows, X64/ARM64); default:
#                               from uname
# With `resolve` as its argument it only prints (and writes to $GITHUB_OUTPUT) version, target,
# archive and cache-dir, for the action's cache step.
set -euo pipefail

die() {
  # One clear sentence, as a GitHub annotation when running there.
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
    echo "::error title=teamsync install::$*" >&2
  else
    echo "error: $*" >&2
  fi
  exit 1
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# ---- what to install ---------------------------------------------------------------------------
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "$os" in
  Linux | linux) os=linux ;;
  macOS | Darwin | darwin) os=macos ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
esac
case "$arch" in
  X64 | x86_64 | amd64 | AMD64) arch=x86_64 ;;
  ARM64 | aarch64 | arm64) arch=aarch64 ;;
esac
case "$os/$arch" in
  linux/x86_64) target=x86_64-unknown-linux-musl ;;
  linux/aarch64) target=aarch64-unknown-linux-musl ;;
  macos/x86_64) target=x86_64-apple-darwin ;;
  macos/aarch64) target=aarch64-apple-darwin ;;
  windows/x86_64) target=x86_64-pc-windows-msvc ;;
  *)
    die "teamsync has no release build for $os/$arch (${RUNNER_OS:-$(uname -s)} ${RUNNER_ARCH:-$(uname -m)}); releases exist for Linux x86_64 and aarch64, macOS x86_64 and aarch64, and Windows x86_64. Use a supported runner, or set build-from-source: true to build it with cargo."
    ;;
esac

version="${TEAMSYNC_VERSION:-}"
if [ -z "$version" ]; then
  # The [package] version of the checkout this script is in: at a release tag, that release.
  version="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' "$root/Cargo.toml" 2>/dev/null | head -n 1)"
  [ -n "$version" ] || die "cannot tell which teamsync version to install: set the version input (for example 0.2.0)."
fi
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]]; then
  die "'$version' is not a teamsync release version (expected for example 0.2.0 or v0.2.0)."
fi
tag="v$version"

if [ "$os" = windows ]; then ext=zip exe=teamsync.exe; else ext=tar.gz exe=teamsync; fi
stem="teamsync-$tag-$target"
archive="$stem.$ext"
cache_dir="${TEAMSYNC_CACHE_DIR:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/teamsync-cache}"
install_dir="${TEAMSYNC_INSTALL_DIR:-${RUNNER_TOOL_CACHE:-$HOME/.local/share}/teamsync/$version/$target/bin}"

output() {
  echo "$1=$2"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}

if [ "${1:-}" = resolve ]; then
  output version "$version"
  output target "$target"
  output archive "$archive"
  output cache-dir "$cache_dir"
  exit 0
fi

finish() {
  # Put the binary's folder on PATH for later steps, and say what runs.
  local dir="$1"
  "$dir/$exe" --version || die "the installed $dir/$exe does not run on this machine."
  output path "$dir/$exe"
  output version "$version"
  if [ -n "${GITHUB_PATH:-}" ]; then
    if command -v cygpath >/dev/null 2>&1; then cygpath -w "$dir" >>"$GITHUB_PATH"; else echo "$dir" >>"$GITHUB_PATH"; fi
  fi
}

# ---- build from source, only when asked ----------------------------------------------------------
if [ "${TEAMSYNC_BUILD_FROM_SOURCE:-false}" = "true" ]; then
  command -v cargo >/dev/null 2>&1 || die "build-from-source needs cargo on the runner (install a Rust toolchain first)."
  echo "Building teamsync $version from $root (build-from-source: true)"
  cargo install --locked --path "$root" --root "$install_dir/.." --force
  finish "$install_dir"
  exit 0
fi

# ---- download, verify, install ---------------------------------------------------------------------
if [ -z "${TEAMSYNC_DOWNLOAD_BASE:-}" ]; then
  repo="${TEAMSYNC_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
  if [ -z "$repo" ] && [[ "$root" =~ /_actions/([^/]+)/([^/]+)/[^/]+$ ]]; then
    repo="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
  fi
  [ -n "$repo" ] || die "cannot tell which repository's releases to use: set TEAMSYNC_REPOSITORY to OWNER/NAME."
  TEAMSYNC_DOWNLOAD_BASE="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download"
fi
base="${TEAMSYNC_DOWNLOAD_BASE%/}/$tag"
# Only https, so nothing in between can swap the archive and SHA256SUMS together; plain http
# only to this machine (the tests' server).
if ! [[ "$base" =~ ^https:// || "$base" =~ ^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?/ ]]; then
  die "refusing to download from $base: only https:// URLs (or http:// to a loopback address) are allowed."
fi

command -v curl >/dev/null 2>&1 || die "curl is needed to download teamsync."
fetch() {
  curl --fail --silent --show-error --location --retry 3 --retry-delay 2 --output "$2" "$1"
}
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "neither sha256sum nor shasum is available to check the download."
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# SHA256SUMS is fetched every time, even when the archive is cached, and the cached archive is
# checked against it too: a poisoned cache is refused like a bad download.
fetch "$base/SHA256SUMS" "$work/SHA256SUMS" ||
  die "cannot download $base/SHA256SUMS: is there a teamsync release $tag? (Set the version input to a published release.)"
expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$work/SHA256SUMS" | tr 'A-F' 'a-f')"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "SHA256SUMS of $tag has no checksum for $archive; refusing to install."

mkdir -p "$cache_dir"
cached="$cache_dir/$archive"
if [ -f "$cached" ]; then
  echo "Using the cached $archive"
  cp "$cached" "$work/$archive"
else
  echo "Downloading $base/$archive"
  fetch "$base/$archive" "$work/$archive" || die "cannot download $base/$archive."
fi

actual="$(sha256 "$work/$archive")"
if [ "$actual" != "$expected" ]; then
  rm -f "$cached"
  die "checksum mismatch for $archive: SHA256SUMS says $expected but the download is $actual; refusing to install it (nothing was installed)."
fi
echo "SHA-256 of $archive matches SHA256SUMS ($actual)"
[ -f "$cached" ] || cp "$work/$archive" "$cached"

mkdir "$work/x"
if [ "$ext" = zip ]; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$work/$archive" -d "$work/x"
  else
    pwsh -NoProfile -Command "Expand-Archive -LiteralPath '$work/$archive' -DestinationPath '$work/x'"
  fi
else
  tar -xzf "$work/$archive" -C "$work/x"
fi
[ -f "$work/x/$stem/$exe" ] || die "$archive does not hold $stem/$exe; refusing to install it."

mkdir -p "$install_dir"
# Copy beside the target and rename, so a half-written binary is never on PATH.
cp "$work/x/$stem/$exe" "$install_dir/.$exe.new"
chmod 755 "$install_dir/.$exe.new"
mv -f "$install_dir/.$exe.new" "$install_dir/$exe"
echo "Installed teamsync $version ($target) in $install_dir"
finish "$install_dir"
