#!/usr/bin/env bash
# Runs one teamsync command for action.yml and sets the action's outputs (docs/install.md).
#
# Environment: the action's inputs as INPUT_COMMAND (install|validate|plan|apply|drift|adopt),
# INPUT_FILE, INPUT_API_URL, INPUT_SELF, INPUT_ALLOW_MASS_REMOVAL, INPUT_PARALLELISM, INPUT_ARGS
# (extra flags, split on spaces, never evaluated, given to EVERY teamsync command this runs);
# SCALING_API_KEY from the caller's step `env`.
# Outputs ($GITHUB_OUTPUT): exit-code, has-changes, plan-json (path of the JSON plan),
# plan-markdown (path of the Markdown plan, plan and drift), comment-file (path of the PR
# comment's Markdown, for comment.sh), report (path of apply's JSON audit report).
#
#   install   nothing: install.sh has put teamsync on PATH for the job's later steps; this
#             only checks that it is there (like setup-terraform)
#   validate  teamsync validate
#   plan      teamsync plan --detailed-exitcode --format markdown --out PLAN.json; without a
#             SCALING_API_KEY (a pull request from a fork) only validate runs, and says so
#   drift     the same plan; a missing key is an error
#   apply     plan --out PLAN.json, then apply --auto-approve PLAN.json: exactly the plan shown;
#             INPUT_ARGS go to both, so they must be flags both take (-v, --timeout 60, ...)
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
marker='<!-- teamsync:plan -->'
rm -f "$plan_json" "$plan_md" "$comment" "$report"

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

finish() {
  output exit-code "$code"
  output has-changes "$1"
  if [ -f "$plan_json" ]; then output plan-json "$plan_json"; else output plan-json ""; fi
  if [ -f "$plan_md" ]; then output plan-markdown "$plan_md"; else output plan-markdown ""; fi
  if [ -f "$comment" ]; then output comment-file "$comment"; fi
  if [ -f "$report" ]; then output report "$report"; else output report ""; fi
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
    for pair in file=INPUT_FILE api-url=INPUT_API_URL self=INPUT_SELF parallelism=INPUT_PARALLELISM args=INPUT_ARGS; do
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
    if [ -z "${SCALING_API_KEY:-}" ]; then
      if [ "$command" = drift ]; then
        echo "::error::SCALING_API_KEY is not set: give the drift step the key in its env."
        code=1
        finish false
      fi
      # No key: a pull request from a fork (no secrets). Validation only, and the comment says so.
      echo "::notice::SCALING_API_KEY is not set (a pull request from a fork?): only validation runs."
      ts validate
      if [ "$code" -eq 0 ]; then
        printf '%s\n### teamsync: only validation ran\n\n`%s` is valid. No plan was made: the API key is not available to this run (secrets are not given to pull requests from forks). A maintainer can push the branch to the repository to get a plan.\n' "$marker" "$file" >"$comment"
      else
        printf '%s\n### teamsync: `%s` is invalid\n\nValidation failed, so no plan was made; the problems are annotated on the changed lines.\n' "$marker" "$file" >"$comment"
      fi
      finish false
    fi
    ts plan --detailed-exitcode --format markdown --out "$plan_json" >"$plan_md"
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
    if [ "$code" -eq 2 ]; then finish true; else finish false; fi
    ;;

  apply)
    # The plan that is shown is the plan that is applied: apply refuses (exit 1, nothing sent)
    # if the org or the file changed in between.
    ts plan --detailed-exitcode --out "$plan_json"
    case "$code" in
      0) echo "Nothing to apply."; finish false ;;
      2) ;;
      *) finish false ;;
    esac
    # The audit report (docs/operations.md) is written on every path once planning succeeded.
    apply=(apply --auto-approve --report "$report")
    [ -z "${INPUT_PARALLELISM:-}" ] || apply+=(--parallelism "$INPUT_PARALLELISM")
    [ "${INPUT_ALLOW_MASS_REMOVAL:-false}" != "true" ] || apply+=(--allow-mass-removal)
    ts "${apply[@]}" "$plan_json"
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
