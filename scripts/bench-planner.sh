#!/usr/bin/env bash
# Benchmark of the storage planner (not a test): median ms per plan for 1,000 / 2,000 / 4,000 mounts.
# Goal: <= 5 ms for 1,000 mounts, linear growth. Usage: scripts/bench-planner.sh [sizes...]
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
mvn -B -q -pl storage -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
cp="storage/target/test-classes:storage/target/classes:$(cat storage/target/bench.classpath)"
exec "$JAVA_HOME/bin/java" -Xmx256m -cp "$cp" dev.podvisor.storage.plan.PlannerBenchmark "$@"
