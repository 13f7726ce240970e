#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Validates docs/fleet/ (ctest label "docs"):
#  - every YAML file parses (python3 yaml), cloud-init user-data starts with #cloud-config,
#  - yamllint (relaxed) when installed,
#  - the Prometheus rules: `promtool check rules` and `promtool test rules` when promtool is installed,
#  - every ztagent_* metric the rules use is one `ztagent verify --format prometheus` writes,
#  - the Ansible playbook: `ansible-playbook --syntax-check` when ansible is installed,
#  - the cloud-init user-data: `cloud-init schema -c` when cloud-init is installed,
#  - every `ztagent` command and long option in the examples is one `ztagent --help` knows.
# Tools that are missing are reported as skipped, not failed; Debian's python3-yaml is required
# (scripts/setup.sh installs it; /usr/bin/python3, not whatever python3 comes first in PATH).
# Usage: check-fleet-docs.sh ZTAGENT_BINARY SOURCE_DIR
set -uo pipefail
binary=$1
src=$2
docs=$src/docs/fleet
failures=0
fail() { echo "check-fleet-docs: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "check-fleet-docs: ok: $*"; }
skip() { echo "check-fleet-docs: skipped: $*"; }

mapfile -t yamls < <(find "$docs" -name '*.yml' | sort)
[[ ${#yamls[@]} -gt 0 ]] || fail "no YAML files under $docs"
for f in "${yamls[@]}"; do
  if /usr/bin/python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f"; then
    ok "yaml parses: ${f#$src/}"
  else
    fail "yaml does not parse: ${f#$src/}"
  fi
done
head -n1 "$docs/cloud-init/user-data.yml" | grep -qx '#cloud-config' && ok "cloud-init header" ||
  fail "cloud-init/user-data.yml must start with #cloud-config"

if command -v yamllint >/dev/null; then
  if yamllint -d '{extends: relaxed, rules: {line-length: {max: 200}}}' "${yamls[@]}"; then ok "yamllint"; else fail "yamllint"; fi
else
  skip "yamllint not installed"
fi

rules=$docs/prometheus/ztagent.rules.yml
if command -v promtool >/dev/null; then
  promtool check rules "$rules" && ok "promtool check rules" || fail "promtool check rules"
  (cd "$docs/prometheus" && promtool test rules ztagent.rules.test.yml) && ok "promtool test rules" ||
    fail "promtool test rules"
else
  skip "promtool not installed (Debian: apt-get install prometheus)"
fi

# The metric names in the rules must be ones ztagent writes (a verify of an empty tree still writes
# all of them but the last-success timestamp, which a passing run adds; that one is checked by name
# against the renderer's HELP line in the source).
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$tree/etc/os-release"
metrics=$("$binary" verify --profile debian-12 --root "$tree" --format prometheus 2>/dev/null)
grep -q '^ztagent_up 1$' <<<"$metrics" || fail "ztagent verify --format prometheus wrote no ztagent_up"
for name in $(grep -oE 'ztagent_[a-z_]+' "$rules" "$docs/prometheus/ztagent.rules.test.yml" | cut -d: -f2 | sort -u); do
  if grep -q "^# TYPE $name gauge$" <<<"$metrics" || grep -q "\"$name\"" "$src/agent/report/monitoring.cpp"; then
    ok "metric $name is written by ztagent"
  else
    fail "metric $name is not written by ztagent (agent/report/monitoring.cpp)"
  fi
done

playbook=$docs/ansible/ztagent.yml
if command -v ansible-playbook >/dev/null; then
  if ANSIBLE_LOCALHOST_WARNING=False ansible-playbook --syntax-check -i "$docs/ansible/inventory.ini" "$playbook" >/dev/null; then
    ok "ansible-playbook --syntax-check"
  else
    fail "ansible-playbook --syntax-check"
  fi
else
  skip "ansible-playbook not installed (Debian: apt-get install ansible-core)"
fi

# cloud-init's own schema validation of the user-data (runs on a host that is not a cloud instance).
if command -v cloud-init >/dev/null; then
  if out=$(cloud-init schema -c "$docs/cloud-init/user-data.yml" 2>&1); then
    ok "cloud-init schema -c cloud-init/user-data.yml"
  else
    fail "cloud-init schema: $out"
  fi
else
  skip "cloud-init not installed (Debian: apt-get install cloud-init)"
fi

# ztagent commands and options used in the examples exist.
help=$("$binary" --help)
for cmd in $(grep -ohE "ztagent[\"',]*[ ,]+[\"']?(provision|plan|verify|drift|explain|list|schedule|profiles)\b" "${yamls[@]}" |
  grep -oE '(provision|plan|verify|drift|explain|list|schedule|profiles)$' | sort -u); do
  grep -qE "^  ztagent $cmd" <<<"$help" && ok "command $cmd" || fail "command '$cmd' is not in ztagent --help"
done
for opt in $(grep -ohE -- "(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*" "${yamls[@]}" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
  case $opt in --syntax-check | --format=*) continue ;; esac
  grep -qE -- "(^|[^A-Za-z0-9-])$opt([^A-Za-z0-9-]|$)" <<<"$help" && ok "option $opt" || fail "option '$opt' is not in ztagent --help"
done

if [[ $failures -gt 0 ]]; then
  echo "check-fleet-docs: $failures failed"
  exit 1
fi
echo "check-fleet-docs: all passed"
