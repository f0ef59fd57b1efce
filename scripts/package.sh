#!/usr/bin/env bash
# Builds the release archive of teamsync for one target (docs/install.md, "Release archives").
# The release workflow runs it once per target; run it locally for this machine's target:
#
#   scripts/package.sh                  # host target, into dist/
#   scripts/package.sh --target x86_64-unknown-linux-musl --out dist
#   scripts/package.sh --binary target/debug/teamsync   # package a binary already built
#
# The archive is dist/teamsync-vVERSION-TARGET.tar.gz (.zip for Windows targets) holding one
# folder of the same name: the binary, completions/ (bash, zsh, fish, PowerShell, elvish),
# man/ (teamsync.1 and one page per command, from clap_mangen via examples/man.rs), README.md,
# LICENSE-MIT and LICENSE-APACHE. A `NAME.sha256` file is written beside it ("HASH  NAME",
# the format of SHA256SUMS, which the workflow concatenates from them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "error: $*" >&2; exit 1; }

target=""
out="dist"
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="${2:?--target needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a value}"; shift 2 ;;
    --binary) binary="${2:?--binary needs a value}"; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

host="$(rustc -vV | sed -n 's/^host: //p')"
target="${target:-$host}"
# The [package] version: the first `version = ` line of Cargo.toml.
version="$(sed -n 's/^version = "\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "cannot read teamsync's version from Cargo.toml"

case "$target" in
  *-windows-*) exe=teamsync.exe ext=zip ;;
  *) exe=teamsync ext=tar.gz ;;
esac
stem="teamsync-v$version-$target"

if [ -z "$binary" ]; then
  echo "== cargo build --release --locked --target $target"
  cargo build --release --locked --target "$target" --bin teamsync
  binary="target/$target/release/$exe"
fi
[ -f "$binary" ] || die "no binary at $binary"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
dir="$stage/$stem"
mkdir -p "$dir"

echo "== man pages and completions (cargo run --example man)"
cargo run --quiet --locked --example man -- "$dir"
cp "$binary" "$dir/$exe"
chmod 755 "$dir/$exe"
cp README.md LICENSE-MIT LICENSE-APACHE "$dir/"
if [ "$target" = "$host" ]; then
  "$dir/$exe" --version # the binary runs, and says which commit it is
fi

archive="$stem.$ext"
rm -f "$out/$archive" "$out/$archive.sha256"
if [ "$ext" = zip ]; then
  if command -v 7z >/dev/null 2>&1; then
    (cd "$stage" && 7z a -tzip -bd "$out/$archive" "$stem" >/dev/null)
  else
    (cd "$stage" && zip -qr "$out/$archive" "$stem")
  fi
else
  # Sorted names, and (GNU tar) no owner names: the same files give the same listing.
  owner=()
  if tar --version 2>/dev/null | grep -q GNU; then owner=(--owner=0 --group=0 --numeric-owner); fi
  (cd "$stage" && find "$stem" -print | LC_ALL=C sort >"$stage/files" &&
    COPYFILE_DISABLE=1 tar -czf "$out/$archive" ${owner[@]+"${owner[@]}"} --no-recursion -T "$stage/files")
fi

if command -v sha256sum >/dev/null 2>&1; then
  (cd "$out" && sha256sum "$archive" >"$archive.sha256")
else
  (cd "$out" && shasum -a 256 "$archive" >"$archive.sha256")
fi
echo "== $out/$archive"
cat "$out/$archive.sha256"
