#!/usr/bin/env bash
# Apicurio Registry (Confluent-compatible API at /apis/ccompat/v6) on 127.0.0.1:$REGISTRY_PORT,
# built once from Maven Central artifacts (scripts/stack/registry/pom.xml) into $STACK_DIR/registry/build,
# with its schemas in an H2 file under $STACK_DIR/registry/data so they survive restarts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"

: "${STACK_DIR:?STACK_DIR must be set}"
REGISTRY_PORT=${REGISTRY_PORT:-18081}
dir=$STACK_DIR/registry
build=$dir/build
log=$dir/registry.log
pidfile=$dir/pid
url=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v6
mkdir -p "$dir/data"

answers() { curl -fsS -o /dev/null "$url/subjects"; }
# A JVM start on a busy two-core machine can take minutes; REGISTRY_START_TIMEOUT bounds the wait.
timeout=${REGISTRY_START_TIMEOUT:-180}

# Already running (or still starting, after an earlier call gave up waiting): wait for it rather
# than start a second one on the same port.
if pid_alive "$pidfile"; then
  wait_until "$timeout" answers || fail_with_log registry "$log"
  echo "$url" >"$dir/url"
  echo "registry: already up"
  exit 0
fi

# Build the runnable registry once per pom.xml content (Maven caches the jars in ~/.m2).
stamp=$(cat "$here/pom.xml" "$here/maven-settings.xml" | md5sum | cut -c1-12)
runner=$build/target/apicurio-registry-runner-1.0-runner.jar
if [[ ! -f $runner || $(cat "$build/stamp" 2>/dev/null) != "$stamp" ]]; then
  echo "registry: building Apicurio Registry from Maven Central artifacts (first start only, ~2 min)"
  rm -rf "$build" && mkdir -p "$build/src/main/resources"
  cp "$here/pom.xml" "$build/pom.xml"
  {
    mvn -q -B -s "$here/maven-settings.xml" -f "$build/pom.xml" dependency:copy \
      -Dartifact=io.apicurio:apicurio-registry-app:2.1.5.Final -DoutputDirectory="$build/app"
    # The app jar carries its own configuration; the Quarkus build must see it, plus an index of
    # the app jar (it ships without a Jandex index, so its beans would not be discovered).
    (cd "$build/app" && jar xf apicurio-registry-app-2.1.5.Final.jar application.properties)
    cat "$build/app/application.properties" >"$build/src/main/resources/application.properties"
    printf '%s\n' 'quarkus.index-dependency.apicurio-app.group-id=io.apicurio' \
      'quarkus.index-dependency.apicurio-app.artifact-id=apicurio-registry-app' >>"$build/src/main/resources/application.properties"
    mvn -q -B -s "$here/maven-settings.xml" -f "$build/pom.xml" -DskipTests package
  } >"$dir/build.log" 2>&1 || fail_with_log registry-build "$dir/build.log"
  echo "$stamp" >"$build/stamp"
fi

: >"$log"
REGISTRY_DATASOURCE_URL="jdbc:h2:file:$dir/data/registry" nohup java -Xms64m -Xmx384m \
  -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" -jar "$runner" >"$log" 2>&1 &
echo $! >"$pidfile"
wait_until "$timeout" answers || fail_with_log registry "$log"
echo "$url" >"$dir/url"
echo "registry: up on $url (Apicurio Registry 2.1.5)"
