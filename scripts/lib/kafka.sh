# An Apache Kafka broker in KRaft mode (one process, broker and controller),
# its jars from Maven Central (tools/kafka/pom.xml) run on the machine's JDK,
# on loopback and ports of its own. Source it after common.sh.

# The broker's version: the one in tools/kafka/pom.xml, so that the pom is the
# only place to bump it.
KAFKA_VERSION=$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$TODO_ROOT/tools/kafka/pom.xml")

# Copies the broker's jars into $TODO_CACHE/kafka-<version>/libs once (Maven
# Central through mvn); later calls find them there and ask no registry.
# Sets KAFKA_LIBS.
ensure_kafka() {
  local dir=$TODO_CACHE/kafka-$KAFKA_VERSION
  [[ -n $KAFKA_VERSION ]] || die "no <kafka.version> in tools/kafka/pom.xml"
  command -v java >/dev/null || apt_install openjdk-17-jre-headless
  if [[ ! -f $dir/libs/kafka_2.13-$KAFKA_VERSION.jar ]]; then
    command -v mvn >/dev/null || apt_install maven
    log "fetching Kafka $KAFKA_VERSION's jars from Maven Central (once)"
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    mvn -B -q -f "$TODO_ROOT/tools/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir.tmp/libs" >"$dir.tmp/mvn.log" 2>&1 \
      || die "fetching Kafka's jars failed; see $dir.tmp/mvn.log"
    [[ -f $dir.tmp/libs/kafka_2.13-$KAFKA_VERSION.jar ]] || die "mvn brought no kafka_2.13-$KAFKA_VERSION.jar"
    rm -rf "$dir" && mv "$dir.tmp" "$dir"
  fi
  KAFKA_LIBS=$dir/libs
}

# A Kafka-style cluster id: 16 random bytes, URL-safe base64 without padding
# (what `kafka-storage.sh random-uuid` prints, without starting a JVM).
kafka_cluster_id() {
  python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("="))'
}

# Sends an ApiVersions request to 127.0.0.1:PORT and succeeds if the broker
# answers it without error: the socket accepting is not enough, as the broker
# opens it only once it has caught up with its metadata, and a half-started
# one could still close the connection.
kafka_answers() {
  python3 - "$1" <<'EOF' 2>/dev/null
import socket, struct, sys
client = b"todo-probe"
# Request header v1 (api_key 18 = ApiVersions, version 0, correlation id 7,
# client id) with an empty v0 body, size-prefixed.
request = struct.pack(">hhih", 18, 0, 7, len(client)) + client
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(struct.pack(">i", len(request)) + request)
    answer = b""
    while len(answer) < 10:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit(1)
        answer += chunk
size, correlation, error = struct.unpack(">iih", answer[:10])
sys.exit(0 if correlation == 7 and error == 0 else 1)
EOF
}

# kafka_configure DIR PORT: writes DIR/server.properties (the broker on
# loopback PORT, its controller on a free port) and DIR/log4j2.properties, and
# formats a KRaft log directory in DIR/data once (kept across starts, like
# PostgreSQL's). Sets KAFKA_JAVA, the java command line without its main
# class. Call ensure_kafka first; scripts/lib/run-kafka is its user.
kafka_configure() {
  local dir=$1 port=$2 controller
  mkdir -p "$dir/data"
  controller=$(free_port)
  # One node that is broker and controller. A static controller.quorum.voters
  # (not the dynamic quorum of `format --standalone`) lets the controller's
  # port change between starts of the same data directory. Replication
  # factors are 1: there is one broker. Topics are created when first used,
  # as Dapr expects, with a few partitions so that ordering by partition key
  # is exercised. No delay before the first consumer group rebalance: tests
  # subscribe and expect events within seconds.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
  # Kafka logs through log4j 2, into one file (appended to: start_kafka
  # empties it first). log4j's own shutdown hook is off: it would stop
  # logging before Kafka's hook has logged its shutdown (and then reopen the
  # file).
  cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/kafka.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
EOF
  # A small, bounded heap and the serial collector: one broker carrying a
  # test run's events needs little, and the machine has 2 cores to share.
  KAFKA_JAVA=(java -Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -XX:MaxMetaspaceSize=192m -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$KAFKA_LIBS/*")
  if [[ ! -f $dir/data/meta.properties ]]; then
    "${KAFKA_JAVA[@]}" kafka.tools.StorageTool format --cluster-id "$(kafka_cluster_id)" \
      --config "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || die "formatting Kafka's log directory failed; see $dir/format.log"
  fi
}

# start_kafka DIR: starts a broker on a free loopback port with its data in
# DIR (scripts/lib/run-kafka), logging to DIR/kafka.log. Returns once it
# answers requests. Sets KAFKA_PORT, KAFKA_PID and KAFKA_RUNNING_VERSION (the
# version the broker itself logs at start).
start_kafka() {
  local dir=$1 attempt
  ensure_kafka
  mkdir -p "$dir"
  # A second try on new ports: a port found free can be taken by someone
  # else before the JVM binds it. Why a try failed is printed either way.
  for attempt in 1 2; do
    if kafka_try_start "$dir"; then
      KAFKA_RUNNING_VERSION=$(grep -o -m 1 'Kafka version: [0-9][0-9.]*' "$dir/kafka.log" | cut -d' ' -f3)
      [[ -n $KAFKA_RUNNING_VERSION ]] || die "Kafka logged no version; see $dir/kafka.log"
      export KAFKA_PORT KAFKA_PID KAFKA_RUNNING_VERSION
      return 0
    fi
    log "Kafka did not start (try $attempt); the end of its output and log:"
    tail -n 20 "$dir/kafka.out" >&2 || true
    grep -E 'ERROR|FATAL|Exception' "$dir/kafka.log" | tail -n 10 >&2 || true
  done
  die "Kafka did not start; see $dir/kafka.log and $dir/kafka.out"
}

# kafka_try_start DIR: starts the broker on a free port and waits until it
# answers (60 s at most). Sets KAFKA_PORT and KAFKA_PID; fails, with the
# broker stopped, if it exits or does not answer.
kafka_try_start() {
  local dir=$1 i
  KAFKA_PORT=$(free_port)
  : >"$dir/kafka.log"
  "$TODO_ROOT/scripts/lib/run-kafka" "$dir" "$KAFKA_PORT" >"$dir/kafka.out" 2>&1 &
  KAFKA_PID=$!
  for ((i = 0; i < 600; i++)); do
    kafka_answers "$KAFKA_PORT" && return 0
    kill -0 "$KAFKA_PID" 2>/dev/null || { wait "$KAFKA_PID" 2>/dev/null; return 1; }
    sleep 0.1
  done
  stop_kafka
  return 1
}

stop_kafka() {
  [[ -n ${KAFKA_PID:-} ]] || return 0
  kill -TERM "$KAFKA_PID" 2>/dev/null || true
  wait "$KAFKA_PID" 2>/dev/null || true
  KAFKA_PID=
}
