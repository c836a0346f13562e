#!/usr/bin/env bash
# All of Podvisor's tests, from nothing (as root, as CI runs it):
#
#   sudo bash scripts/test.sh [MAVEN-ARGS...]
#
# Runs scripts/setup.sh (Debian packages, build, install into /opt/podvisor: the integration tests
# drive that install through a private containerd), then `mvn -B verify` with Temurin 25. Extra
# arguments go to Maven, e.g. `-pl storage -am` or `-Dtest=...`.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

require_root
bash "$PODVISOR_REPO/scripts/setup.sh"
cd "$PODVISOR_REPO"
export JAVA_HOME="$PODVISOR_JAVA_HOME"
exec mvn -B verify "$@"
