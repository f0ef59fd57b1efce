#!/usr/bin/env bash
# Posts the plan as ONE sticky pull-request comment (docs/install.md, "GitHub Action"): the
# bot's earlier comment that starts with `<!-- teamsync:plan -->` is updated, else one is
# created. A fork's token is read-only: then the body goes to the job summary with a warning,
# and the step does not fail for that.
#
# Environment: COMMENT_FILE (the Markdown from run.sh), GH_TOKEN, GITHUB_REPOSITORY,
# GITHUB_EVENT_PATH, GITHUB_SERVER_URL, GITHUB_RUN_ID. Needs gh and jq (on GitHub's runners).
set -euo pipefail

marker='<!-- teamsync:plan -->'
file="${COMMENT_FILE:-}"
if [ -z "$file" ] || [ ! -f "$file" ]; then
  echo "No plan comment to post."
  exit 0
fi
pr="$(jq -r '.pull_request.number // empty' "${GITHUB_EVENT_PATH:?}")"
if [ -z "$pr" ]; then
  echo "Not a pull request: no comment."
  exit 0
fi
sha="$(jq -r '.pull_request.head.sha // empty' "$GITHUB_EVENT_PATH")"
run="${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:?}/actions/runs/${GITHUB_RUN_ID:-0}"

body="$(mktemp)"
trap 'rm -f "$body" "$body.json"' EXIT
{
  cat "$file"
  printf '\n\n---\n<sub>teamsync for %s · [workflow run](%s)</sub>\n' "${sha:0:7}" "$run"
} >"$body"
# GitHub's limit is 65,536 characters; the Markdown plan already stays under 65,000.
if [ "$(wc -c <"$body")" -gt 65000 ]; then
  head -c 64000 "$file" >"$body"
  printf '\n\n… (truncated; the whole plan is in the [workflow run](%s))\n' "$run" >>"$body"
fi
jq -Rs '{body: .}' <"$body" >"$body.json"

post() {
  local id
  id="$(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
    --jq ".[] | select(.user.type == \"Bot\" and ((.body // \"\") | startswith(\"$marker\"))) | .id" |
    head -n 1)" || return 1
  if [ -n "$id" ]; then
    gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" --input "$body.json" --jq .html_url
  else
    gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" --input "$body.json" --jq .html_url
  fi
}

if ! post; then
  echo "::warning::Cannot comment on this pull request (a fork's read-only token?); the plan is in the job summary."
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$body" >>"$GITHUB_STEP_SUMMARY"; fi
fi
