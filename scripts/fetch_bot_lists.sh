#!/usr/bin/env bash
# Refresh the vendored crawler list (src/jetrack/enrich/data/crawler-user-agents.json) and
# rebuild the labelled user agents bench/bots.py measures on (bench/data/bot_labels.csv.gz)
# from pinned public sources; see src/jetrack/enrich/data/README.md and bench/data/README.md.
# Usage: scripts/fetch_bot_lists.sh   (then: PYTHONPATH=src .venv/bin/python bench/bots.py)
set -euo pipefail

# The PyPI release of crawler-user-agents is the newest; its npm twin lags (1.60.0 when
# this was pinned) and carries the same JSON file.
CRAWLERS_VERSION="${CRAWLERS_VERSION:-1.67.0}"
TOP_CRAWLERS_VERSION="${TOP_CRAWLERS_VERSION:-1.0.35}"
USER_AGENTS_VERSION="${USER_AGENTS_VERSION:-2.1.198}"
# isbot publishes its fixtures in its repository only, not in its package.
ISBOT_REPO="${ISBOT_REPO:-https://github.com/omrilotan/isbot.git}"
ISBOT_COMMIT="${ISBOT_COMMIT:-344052da664bde49579e21f1e62349280791efb3}"

# uap-core's parser tests (browsers of many families), also in its repository only.
UAP_REPO="${UAP_REPO:-https://github.com/ua-parser/uap-core.git}"
UAP_COMMIT="${UAP_COMMIT:-e3c5e634bee0b14f1a129c991483910739ad9f6c}"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$PYTHON" -m pip download --quiet --no-deps --dest "$WORK/pypi" \
  "crawler-user-agents==$CRAWLERS_VERSION"
(cd "$WORK" && unzip -q -o pypi/crawler_user_agents-*.whl 'crawleruseragents/*.json')
install -m 0644 "$WORK/crawleruseragents/crawler-user-agents.json" \
  "$ROOT/src/jetrack/enrich/data/crawler-user-agents.json"

# npm pack downloads a package's tarball without installing it into node_modules.
for package in "top-crawler-agents@$TOP_CRAWLERS_VERSION" "user-agents@$USER_AGENTS_VERSION"; do
  mkdir -p "$WORK/${package%@*}"
  (cd "$WORK" && npm pack --silent "$package" >/dev/null)
  tar -xzf "$WORK/${package%@*}"-*.tgz -C "$WORK/${package%@*}"
done

checkout() {  # checkout DIR REPO COMMIT
  git init --quiet "$1"
  git -C "$1" fetch --quiet --depth 1 "$2" "$3"
  git -C "$1" checkout --quiet FETCH_HEAD
}
checkout "$WORK/isbot" "$ISBOT_REPO" "$ISBOT_COMMIT"
checkout "$WORK/uap-core" "$UAP_REPO" "$UAP_COMMIT"

PYTHONPATH="$ROOT/src" "$PYTHON" "$ROOT/bench/build_bot_labels.py" \
  --crawler-user-agents "$ROOT/src/jetrack/enrich/data/crawler-user-agents.json" \
  --isbot "$WORK/isbot" \
  --top-crawler-agents "$WORK/top-crawler-agents/package/index.json" \
  --user-agents "$WORK/user-agents/package/dist/user-agents.json" \
  --uap-core "$WORK/uap-core"
