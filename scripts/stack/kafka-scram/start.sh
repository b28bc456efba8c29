#!/usr/bin/env bash
# A second, separate Kafka for the security tests (KAFKA_AUTH=scram npm run stack:up): one KRaft
# node whose client listener is SASL_SSL with SCRAM-SHA-512, on 127.0.0.1:$KAFKA_SCRAM_PORT (19192;
# controller $KAFKA_SCRAM_CONTROLLER_PORT, 19193). TLS with a certificate for 127.0.0.1 signed by a
# locally generated CA ($dir/ca.pem, what clients verify against); the SCRAM users are created when
# the log dir is formatted (kafka-storage format --add-scram): `admin` (inter-broker) and
# `order-stream`, with generated passwords. Writes $dir/env: the KAFKA_* settings a role needs
# to use it (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_SSL_CA_LOCATION, KAFKA_BROKERS).
# Idempotent; data, certificates and passwords under $STACK_DIR/kafka-scram.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
: "${STACK_DIR:?STACK_DIR must be set}"
dir=$STACK_DIR/kafka-scram
mkdir -p "$dir"
port=${KAFKA_SCRAM_PORT:-19192}
controller_port=${KAFKA_SCRAM_CONTROLLER_PORT:-19193}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if pid_alive "$dir/pid" && port_open "$port"; then
  echo "kafka-scram: already up (SASL_SSL 127.0.0.1:$port)"
  exit 0
fi

# The same broker jars as the plaintext stack (scripts/stack/kafka/pom.xml), resolved once.
pom=$here/../kafka/pom.xml
classpath_file=$dir/classpath-$(md5sum "$pom" | cut -c1-12)
if [[ ! -s $classpath_file ]]; then
  mvn -q -B -f "$pom" dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$classpath_file.tmp" >"$dir/maven.log" 2>&1 \
    || fail_with_log kafka-scram-maven "$dir/maven.log"
  mv "$classpath_file.tmp" "$classpath_file"
fi

# A CA and the broker's certificate (SAN IP:127.0.0.1, DNS:localhost), made once.
if [[ ! -s $dir/broker.p12 ]]; then
  (
    cd "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=order-stream local test CA" -keyout ca.key -out ca.pem 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -extfile broker.ext -out broker.pem 2>/dev/null
    openssl rand -hex 16 >keystore.password
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker -passout "file:keystore.password" -out broker.p12
    chmod 600 ca.key broker.key keystore.password broker.p12
  )
fi
[[ -s $dir/admin.password ]] || { openssl rand -hex 16 >"$dir/admin.password"; chmod 600 "$dir/admin.password"; }
[[ -s $dir/order-stream.password ]] || { openssl rand -hex 16 >"$dir/order-stream.password"; chmod 600 "$dir/order-stream.password"; }
store_password=$(cat "$dir/keystore.password")
admin_password=$(cat "$dir/admin.password")
app_password=$(cat "$dir/order-stream.password")

# The truststore of the broker's own inter-broker client: the CA (PKCS12, made with keytool).
if [[ ! -s $dir/truststore.p12 ]]; then
  keytool -importcert -noprompt -alias ca -file "$dir/ca.pem" -keystore "$dir/truststore.p12" -storetype PKCS12 -storepass "$store_password" >/dev/null 2>&1
fi

cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=SASL_SSL://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=SASL_SSL://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
ssl.keystore.type=PKCS12
ssl.keystore.location=$dir/broker.p12
ssl.keystore.password=$store_password
ssl.truststore.type=PKCS12
ssl.truststore.location=$dir/truststore.p12
ssl.truststore.password=$store_password
ssl.client.auth=none
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
chmod 600 "$dir/server.properties"
cat >"$dir/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$dir/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
PROPS

java_opts=(-Xms128m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true "-Dlog4j2.configurationFile=$dir/log4j2.properties")
classpath=$(cat "$classpath_file")
if [[ ! -f $dir/data/meta.properties ]]; then
  java "${java_opts[@]}" -cp "$classpath" kafka.tools.StorageTool format -t b3JkZXJzdHJlYW1zY3JhbQ -c "$dir/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$admin_password]" \
    --add-scram "SCRAM-SHA-512=[name=order-stream,password=$app_password]" \
    >"$dir/format.log" 2>&1 || fail_with_log kafka-scram-format "$dir/format.log"
fi
: >"$dir/server.log"
nohup java "${java_opts[@]}" -cp "$classpath" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
echo $! >"$dir/pid"
wait_until "${KAFKA_START_TIMEOUT:-240}" bash -c "grep -q 'Kafka Server started' '$dir/server.log' && (exec 3<>/dev/tcp/127.0.0.1/$port)" \
  || { pid_alive "$dir/pid" || cat "$dir/stdout.log" >>"$dir/server.log"; fail_with_log kafka-scram "$dir/server.log"; }

cat >"$dir/env" <<ENV
KAFKA_BROKERS=127.0.0.1:$port
KAFKA_SECURITY_PROTOCOL=sasl_ssl
KAFKA_SASL_MECHANISM=SCRAM-SHA-512
KAFKA_SASL_USERNAME=order-stream
KAFKA_SASL_PASSWORD=$app_password
KAFKA_SSL_CA_LOCATION=$dir/ca.pem
ENV
chmod 600 "$dir/env"
echo "kafka-scram: up on SASL_SSL 127.0.0.1:$port (SCRAM-SHA-512; settings in $dir/env)"
