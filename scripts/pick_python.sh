#!/usr/bin/env bash
# Prints the Python `make install` makes the venv with: a CPython 3.12 where the machine has
# one (on PATH, or installed by pyenv but not its global version), else python3 (3.11 works
# too). On 3.12 the tests' coverage runs on sys.monitoring (coverage's "sysmon" core), which
# costs a fraction of the tracer 3.11 needs (docs/benchmarks.md, "The test suite, session 13").
set -uo pipefail

candidates=(python3.12)
if root="$(pyenv root 2>/dev/null)"; then
  candidates+=("$root"/versions/3.12*/bin/python3.12)
fi
for python in "${candidates[@]}"; do
  if "$python" -c 'import ensurepip, sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    echo "$python"
    exit 0
  fi
done
echo python3
