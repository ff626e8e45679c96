#!/usr/bin/env bash
# Provides Mono's C# compiler, runtime and NUnit 2.6 for the C# binding's tests
# (scripts/test-csharp.sh). Idempotent: installs only what is missing.
set -euo pipefail

NUNIT_DLL=/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll
if command -v mcs >/dev/null 2>&1 && command -v mono >/dev/null 2>&1 &&
  command -v nunit-console >/dev/null 2>&1 && [ -f "$NUNIT_DLL" ]; then
  echo "setup-csharp: mono, mcs and nunit-console present"
  exit 0
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq mono-mcs mono-runtime nunit-console libnunit-cil-dev >/tmp/xnano-apt-csharp.log 2>&1 || {
  tail -n 30 /tmp/xnano-apt-csharp.log >&2
  exit 1
}
echo "setup-csharp: installed in $(($(date +%s) - start)) s"
