#!/usr/bin/env bash
# Runs one teamsync command for action.yml and sets the action's outputs (docs/install.md).
#
# Environment: the action's inputs as INPUT_COMMAND (install|validate|plan|apply|drift|adopt),
# INPUT_FILE, INPUT_API_URL, INPUT_SELF, INPUT_ALLOW_MASS_REMOVAL, INPUT_PARALLELISM, INPUT_ARGS
# (extra flags, split on spaces, never evaluated, given to EVERY teamsync command this runs),
# INPUT_BASELINE (plan: auto|none|a commit), INPUT_DRIFT (apply: revert|keep|refuse),
# INPUT_SNAPSHOT (a snapshot's path; a leading ~/ is
# $HOME); SCALING_API_KEY (or SCALING_API_KEY_FILE) from the caller's step `env`; GITHUB_EVENT_NAME, GITHUB_EVENT_PATH.
# Outputs ($GITHUB_OUTPUT): exit-code, has-changes, plan-json (path of the JSON plan),
# plan-markdown (path of the Markdown plan, plan and drift), comment-file (path of the PR
# comment's Markdown, for comment.sh), report (path of apply's JSON audit report), snapshot
# (path of the snapshot saved by apply or drift, for a cache).
#
#   install   nothing: install.sh has put teamsync on PATH for the job's later steps; this
#             only checks that it is there (like setup-terraform)
#   validate  teamsync validate
#   plan      teamsync plan --detailed-exitcode --format markdown --out PLAN.json, with
#             --live SNAPSHOT when INPUT_SNAPSHOT names a file (no key needed, no request sent)
#             and, in a pull request, --baseline BASE: the base commit's copy of the file,
#             read from git as data (docs/contract.md §8). Without a snapshot and without a
#             key (SCALING_API_KEY or SCALING_API_KEY_FILE) only validate runs, and the
#             comment says why
#   drift     the same plan, from the API (a missing key is an error); then, with
#             INPUT_SNAPSHOT, teamsync snapshot -o SNAPSHOT
#   apply     plan --out PLAN.json, then apply --auto-approve PLAN.json: exactly the plan shown;
#             INPUT_ARGS go to both, so they must be flags both take (-v, --timeout 60, ...);
#             then, with INPUT_SNAPSHOT, teamsync snapshot -o SNAPSHOT
#   adopt     teamsync adopt (with INPUT_ARGS, e.g. --only added,roles or --check)
# Exit 2 (changes) is a result, not a failure: has-changes says it. Exit 1 and 3 fail the step.
# The backquotes in the comment texts below are Markdown, not command substitutions.
# shellcheck disable=SC2016
set -euo pipefail

command="${INPUT_COMMAND:-plan}"
tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
plan_json="$tmp/teamsync-plan.json"
plan_md="$tmp/teamsync-plan.md"
comment="$tmp/teamsync-comment.md"
report="$tmp/teamsync-report.json"
base_dir="$tmp/teamsync-baseline"
marker='<!-- teamsync:plan -->'
rm -f "$plan_json" "$plan_md" "$comment" "$report"
rm -rf "$base_dir"
snapshot="${INPUT_SNAPSHOT:-}"
# A leading ~/ is the home folder, as actions/cache reads the same path.
# shellcheck disable=SC2088 # the literal ~/ of the input is matched, not expanded
case "$snapshot" in "~/"*) snapshot="${HOME:?is not set, and the snapshot input starts with ~/}/${snapshot#"~/"}" ;; esac
saved_snapshot=""

output() {
  echo "$1=$2"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1=$2" >>"$GITHUB_OUTPUT"; fi
}
summary() {
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat >>"$GITHUB_STEP_SUMMARY"; else cat >/dev/null; fi
}

global=()
[ -z "${INPUT_FILE:-}" ] || global+=(--file "$INPUT_FILE")
[ -z "${INPUT_API_URL:-}" ] || global+=(--api-url "$INPUT_API_URL")
[ -z "${INPUT_SELF:-}" ] || global+=(--self "$INPUT_SELF")
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then read -r -a extra <<<"$INPUT_ARGS"; fi
file="${INPUT_FILE:-teamsync.yaml}"

# teamsync with the global flags, the command's words and then INPUT_ARGS: every teamsync command
# this script runs goes through here. Its exit code in $code, never aborting this script.
ts() {
  code=0
  teamsync ${global[@]+"${global[@]}"} "$@" ${extra[@]+"${extra[@]}"} || code=$?
}

# The target of the base tree's symbolic link at $2 (a path from the repository's root),
# followed through further links (docs/contract.md §10): prints "blob SHA" or "tree PATH"; fails
# when it leads outside the repository (an absolute target, or `..` above the root) or nowhere.
resolve_link() {
  local ref="$1" at="$2" target part out entry mode kind sha hops=0
  local -a segs parts
  while [ "$hops" -lt 40 ]; do
    hops=$((hops + 1))
    target="$(git cat-file blob "$ref:$at")" || return 1
    case "$target" in /*) return 1 ;; esac
    parts=()
    IFS=/ read -r -a segs <<<"$(dirname "$at")/$target"
    for part in "${segs[@]}"; do
      case "$part" in
        "" | .) ;;
        ..)
          [ "${#parts[@]}" -gt 0 ] || return 1
          unset 'parts[${#parts[@]}-1]'
          ;;
        *) parts+=("$part") ;;
      esac
    done
    [ "${#parts[@]}" -gt 0 ] || return 1
    out="$(IFS=/ && echo "${parts[*]}")"
    entry="$(git ls-tree --full-tree "$ref" -- "$out")"
    [ -n "$entry" ] || return 1
    read -r mode kind sha <<<"${entry%%$'\t'*}"
    case "$mode" in
      120000) at="$out" ;;
      040000) echo "tree $out" && return 0 ;;
      100644 | 100755) echo "blob $sha" && return 0 ;;
      *) return 1 ;;
    esac
  done
  return 1
}

# Writes the base tree's folder $2 (a path from the repository's root) into $3: each file's blob
# byte for byte, and a symbolic link to a file or folder inside the repository as its target, as
# `-f DIR` reads the head (hidden files and folders skipped, as there). Fails on a link that
# leads outside the repository or nowhere: the head's plan reports such a link itself.
copy_tree() {
  local ref="$1" from="$2" to="$3" depth="$4" line name mode kind sha rel target
  [ "$depth" -lt 8 ] || return 1
  mkdir -p "$to"
  while IFS= read -r -d '' line; do
    name="${line#*$'\t'}"
    read -r mode kind sha <<<"${line%%$'\t'*}"
    rel="${name#"$from"/}"
    case "/$rel" in */.*) continue ;; esac
    if [ "$mode" = 120000 ]; then
      if ! target="$(resolve_link "$ref" "$name")"; then
        echo "::notice::$name is a symbolic link in the base commit that leads outside the repository or nowhere: no baseline."
        return 1
      fi
      read -r kind sha <<<"$target"
      if [ "$kind" = tree ]; then
        copy_tree "$ref" "$sha" "$to/$rel" $((depth + 1)) || return 1
        continue
      fi
    fi
    [ "$kind" = blob ] || continue
    mkdir -p "$to/$(dirname "$rel")"
    git cat-file blob "$sha" >"$to/$rel"
  done < <(git ls-tree -r -z --full-tree "$ref" -- "$from")
}

# The baseline of a pull request's plan (docs/contract.md §8): the file (or folder) as the base
# commit has it, written out of git as data: each blob copied byte for byte with `git cat-file`
# (no checkout, no filters, no `git archive` and its export-ignore/export-subst attributes, no
# symbolic link made: a link inside the repository is written as its target), and nothing run.
# Sets baseline_args; on any doubt, a notice and no baseline (the plan is then made without
# telling the edit from drift).
baseline_args=()
resolve_baseline() {
  local want="${1:-${INPUT_BASELINE:-auto}}" what="${2:-}" ref="" path full entry mode kind sha dest
  [ -n "$what" ] || what="the pull request's base"
  case "$want" in
    none | false | "") return 0 ;;
    auto)
      [ "${GITHUB_EVENT_NAME:-}" = pull_request ] && [ -f "${GITHUB_EVENT_PATH:-}" ] || return 0
      local head_sha
      head_sha="$(jq -r '.pull_request.head.sha // empty' "$GITHUB_EVENT_PATH")"
      # The checked-out merge commit's first parent is the base it was made on.
      if [ -n "$head_sha" ] && [ "$(git rev-parse -q --verify 'HEAD^2' 2>/dev/null)" = "$head_sha" ]; then
        ref="$(git rev-parse -q --verify 'HEAD^1')"
      else
        ref="$(jq -r '.pull_request.base.sha // empty' "$GITHUB_EVENT_PATH")"
      fi
      ;;
    *) ref="$want" ;;
  esac
  if [ -z "$ref" ] || ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "::notice::No git checkout or base commit: the plan does not tell this change from drift."
    return 0
  fi
  if ! git cat-file -e "$ref^{commit}" 2>/dev/null; then
    git fetch --quiet --no-tags --depth=1 origin "$ref" 2>/dev/null || true
  fi
  if ! git cat-file -e "$ref^{commit}" 2>/dev/null; then
    echo "::notice::The base commit $ref is not in the checkout (give actions/checkout fetch-depth: 2): the plan does not tell this change from drift."
    return 0
  fi
  path="${file#./}"
  path="${path%/}"
  # From the repository's root, as the base tree names it.
  full="$(git rev-parse --show-prefix)$path"
  entry="$(git ls-tree --full-tree "$ref" -- "$full" 2>/dev/null)"
  if [ -z "$entry" ]; then
    echo "::notice::The base commit has no $path (a new file?): every change is this pull request's."
    return 0
  fi
  read -r mode kind sha <<<"${entry%%$'\t'*}"
  if [ "$mode" = 120000 ]; then
    if ! entry="$(resolve_link "$ref" "$full")"; then
      echo "::notice::$path is a symbolic link in the base commit that leads outside the repository or nowhere: no baseline."
      return 0
    fi
    read -r kind sha <<<"$entry"
    [ "$kind" = blob ] || full="$sha"
  fi
  dest="$base_dir/$(basename "$path")"
  mkdir -p "$base_dir"
  case "$kind" in
    blob) git cat-file blob "$sha" >"$dest" ;;
    tree) copy_tree "$ref" "$full" "$dest" 0 || return 0 ;;
    *)
      echo "::notice::$path is not a file or a folder in the base commit: no baseline."
      return 0
      ;;
  esac
  baseline_args=(--baseline "$dest")
  # A plan's label names the base commit in every format of the plan (docs/contract.md §8).
  if [ "$command" = plan ]; then
    baseline_args+=(--baseline-label "$(git rev-parse "$ref^{commit}")")
  fi
  echo "Baseline: $path as of $(git rev-parse --short "$ref") ($what)."
}

# The commit the last successful apply applied, as the snapshot at $snapshot records it (its
# `commit`, written by save_snapshot below); empty when there is no record.
applied_commit() {
  [ -n "$snapshot" ] && [ -f "$snapshot" ] || return 0
  jq -r '.commit // empty' "$snapshot" 2>/dev/null | grep -E '^[0-9a-f]{4,64}$' || true
}

# Saves the org as read now to $snapshot (apply and drift), for plans without a key. A failure
# is a warning: the command's own result stands.
save_snapshot() {
  [ -n "$snapshot" ] || return 0
  local result="$code" record=()
  # apply: the commit whose file the org now holds, the next apply's baseline.
  [ -z "${1:-}" ] || record=(--commit "$1")
  mkdir -p "$(dirname "$snapshot")"
  ts snapshot --output "$snapshot" ${record[@]+"${record[@]}"}
  if [ "$code" -eq 0 ]; then
    saved_snapshot="$snapshot"
  else
    echo "::warning::Could not save the org snapshot to $snapshot (exit $code); pull-request plans keep the older one."
  fi
  code="$result"
}

finish() {
  output exit-code "$code"
  output has-changes "$1"
  if [ -f "$plan_json" ]; then output plan-json "$plan_json"; else output plan-json ""; fi
  if [ -f "$plan_md" ]; then output plan-markdown "$plan_md"; else output plan-markdown ""; fi
  if [ -f "$comment" ]; then output comment-file "$comment"; fi
  if [ -f "$report" ]; then output report "$report"; else output report ""; fi
  output snapshot "$saved_snapshot"
  case "$code" in
    0 | 2) exit 0 ;;
    3) echo "::error::teamsync $command refused by a safety guard (exit 3); nothing was sent. Review the plan above." ;;
    *) echo "::error::teamsync $command failed (exit $code); see the log above." ;;
  esac
  exit 1
}

case "$command" in
  install)
    # install.sh (the step before) downloaded, verified and installed teamsync and put its folder
    # on PATH for this and every later step of the job. Nothing runs; the inputs of the
    # commands have no use here, and a workflow that sets one is told so.
    unused=()
    for pair in file=INPUT_FILE api-url=INPUT_API_URL self=INPUT_SELF parallelism=INPUT_PARALLELISM args=INPUT_ARGS snapshot=INPUT_SNAPSHOT; do
      var="${pair#*=}"
      [ -z "${!var:-}" ] || unused+=("${pair%%=*}")
    done
    [ "${INPUT_ALLOW_MASS_REMOVAL:-false}" = "false" ] || unused+=(allow-mass-removal)
    if [ ${#unused[@]} -gt 0 ]; then
      echo "::warning::command: install runs no teamsync command, so these inputs are not used: ${unused[*]}. Run teamsync in a later step with the flags you need."
    fi
    if ! path="$(command -v teamsync)"; then
      echo "::error::teamsync is not on PATH after the install step."
      code=1
      finish false
    fi
    echo "teamsync is installed ($path); later steps of this job can run it."
    code=0
    finish false
    ;;

  validate)
    ts validate
    finish false
    ;;

  plan | drift)
    live=()
    if [ "$command" = plan ] && [ -n "$snapshot" ] && [ -f "$snapshot" ]; then
      # The org as the newest snapshot has it: no key, no request (docs/contract.md §9).
      live=(--live "$snapshot")
    elif [ -z "${SCALING_API_KEY:-}" ] && [ -z "${SCALING_API_KEY_FILE:-}" ]; then
      if [ "$command" = drift ]; then
        echo "::error::Neither SCALING_API_KEY nor SCALING_API_KEY_FILE is set: give the drift step the key in its env."
        code=1
        finish false
      fi
      if [ -n "$snapshot" ]; then
        why="no org snapshot is available yet (the apply and drift workflows save one, at $snapshot) and this job has no API key"
      else
        why="the API key is not available to this run (secrets are not given to pull requests from forks), and no org snapshot was given"
      fi
      echo "::notice::No plan: $why. Only validation runs."
      ts validate
      if [ "$code" -eq 0 ]; then
        printf '%s\n### teamsync: only validation ran\n\n`%s` is valid. No plan was made: %s.\n' "$marker" "$file" "$why" >"$comment"
      else
        printf '%s\n### teamsync: `%s` is invalid\n\nValidation failed, so no plan was made; the problems are annotated on the changed lines.\n' "$marker" "$file" >"$comment"
      fi
      finish false
    fi
    [ "$command" != plan ] || resolve_baseline
    ts plan --detailed-exitcode --format markdown --out "$plan_json" \
      ${live[@]+"${live[@]}"} ${baseline_args[@]+"${baseline_args[@]}"} >"$plan_md"
    cat "$plan_md"
    case "$code" in
      0 | 2)
        # teamsync itself appends the plan to $GITHUB_STEP_SUMMARY (docs/operations.md).
        cp "$plan_md" "$comment"
        ;;
      *)
        printf '%s\n### teamsync: plan failed\n\n`teamsync plan` exited with %s (an invalid file, or an API error); see the workflow run.\n' "$marker" "$code" >"$comment"
        ;;
    esac
    if [ "$command" = drift ] && { [ "$code" -eq 0 ] || [ "$code" -eq 2 ]; }; then save_snapshot; fi
    if [ "$code" -eq 2 ]; then finish true; else finish false; fi
    ;;

  apply)
    # The baseline is the commit the last successful apply applied (docs/contract.md §5), as
    # the restored snapshot records it: what differs from it in the org is drift, reverted,
    # kept or refused by INPUT_DRIFT. Not the commit before the merge: a cancelled or failed
    # apply must not turn a reviewed edit into drift.
    last="$(applied_commit)"
    head="$(git rev-parse -q --verify HEAD 2>/dev/null || true)"
    drift_mode="${INPUT_DRIFT:-revert}"
    if [ -n "$last" ]; then
      resolve_baseline "$last" "the last successful apply"
    fi
    if [ ${#baseline_args[@]} -eq 0 ]; then
      echo "::warning::No record of the commit the last successful apply applied (no snapshot with a commit, or its file is not in this checkout: give actions/checkout fetch-depth: 0): this apply cannot tell the edit from drift, and reverts drift too. The snapshot saved after a successful apply records its commit for the next one."
    fi
    # The plan that is shown is the plan that is applied: apply refuses (exit 1, nothing sent)
    # if the org or the file changed in between.
    ts plan --detailed-exitcode --out "$plan_json" ${baseline_args[@]+"${baseline_args[@]}"}
    case "$code" in
      0) echo "Nothing to apply."; save_snapshot "$head"; finish false ;;
      2) ;;
      *) finish false ;;
    esac
    # The audit report (docs/operations.md) is written on every path once planning succeeded.
    apply=(apply --auto-approve --report "$report")
    [ -z "${INPUT_PARALLELISM:-}" ] || apply+=(--parallelism "$INPUT_PARALLELISM")
    [ "${INPUT_ALLOW_MASS_REMOVAL:-false}" != "true" ] || apply+=(--allow-mass-removal)
    [ ${#baseline_args[@]} -eq 0 ] || apply+=(--drift "$drift_mode")
    ts "${apply[@]}" "$plan_json"
    # The org as it is now, whatever apply did (a refusal or a failure included); the record
    # moves to this commit only when the apply succeeded, else the last one is kept.
    if [ "$code" -eq 0 ]; then save_snapshot "$head"; else save_snapshot "$last"; fi
    finish true
    ;;

  adopt)
    diff="$tmp/teamsync-adopt.diff"
    ts adopt >"$diff"
    cat "$diff"
    if [ -s "$diff" ]; then summary < <(printf '```diff\n'; cat "$diff"; printf '```\n'); fi
    # --check: 2 means the file would change; otherwise a printed diff means it changed.
    if [ "$code" -eq 2 ] || { [ "$code" -eq 0 ] && [ -s "$diff" ]; }; then finish true; else finish false; fi
    ;;

  *)
    echo "::error::unknown command '$command': use install, validate, plan, apply, drift or adopt."
    code=1
    finish false
    ;;
esac
