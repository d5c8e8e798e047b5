#!/bin/sh
# Render the local stack's broker template for a container, format KRaft storage once, run.
# The template's listeners are loopback ones; the lines appended after it win (Java's
# Properties keeps a key's last value): containers reach the broker as kafka:9092, the
# host as 127.0.0.1:$KAFKA_HOST_PORT (the port compose publishes).
set -eu
: "${BROKER_KAFKA_SASL_PASSWORD:?set BROKER_KAFKA_SASL_PASSWORD in .env}"
home=/var/lib/kafka
config=$home/server.properties
# One node: id 1, its own quorum, one replica of everything (as the local stack's default).
sed -e "s|\${KAFKA_PORT}|9092|g" -e "s|\${KAFKA_CONTROLLER_PORT}|9093|g" \
    -e "s|\${KAFKA_NODE_ID}|1|g" -e "s|\${KAFKA_QUORUM_VOTERS}|1@localhost:9093|g" \
    -e "s|\${KAFKA_REPLICATION_FACTOR}|1|g" -e "s|\${KAFKA_MIN_INSYNC}|1|g" \
    -e "s|\${KAFKA_LOG_DIRS}|$home/data|g" \
    -e "s|\${KAFKA_MESSAGE_MAX_BYTES}|$KAFKA_MESSAGE_MAX_BYTES|g" \
    -e "s|\${KAFKA_BROKER_PASSWORD}|$BROKER_KAFKA_SASL_PASSWORD|g" -e "s|\${KAFKA_SCRAM_JAAS}||g" \
    -e "s|\${KAFKA_PROXY_[A-Z]*}||g" /opt/kafka/config/server.properties.template > "$config"
cat >> "$config" <<PROPS
listeners=CLIENT://:9092,HOST://:19092,CONTROLLER://:9093
advertised.listeners=CLIENT://kafka:9092,HOST://127.0.0.1:${KAFKA_HOST_PORT}
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT,HOST:SASL_PLAINTEXT
controller.quorum.voters=1@localhost:9093
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${BROKER_KAFKA_SASL_PASSWORD}";
listener.name.host.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${BROKER_KAFKA_SASL_PASSWORD}";
PROPS
chmod 600 "$config"  # it holds the broker's password
# The stack's log settings, plus the console, so `docker compose logs kafka` shows them.
sed -e 's/^log4j.rootLogger=.*/log4j.rootLogger=INFO, file, stdout/' \
    /opt/kafka/config/log4j.properties > $home/log4j.properties
cat >> $home/log4j.properties <<'PROPS'
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
mkdir -p $home/logs
rm -f $home/logs/server.log  # the health check reads it: only this start's lines count
if [ ! -f $home/data/meta.properties ]; then
  cluster_id="$(java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool random-uuid | tail -n 1)"
  # The broker's own SCRAM credential (infra/kafka_principals.py): kafka-init signs in with it
  # to add every other principal's, and their ACLs.
  java -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format -t "$cluster_id" -c "$config" \
    --ignore-formatted --add-scram "SCRAM-SHA-512=[name=broker,password=$BROKER_KAFKA_SASL_PASSWORD]"
fi
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -Djava.awt.headless=true -Dkafka.logs.dir=$home/logs \
  -Dlog4j.configuration=file:$home/log4j.properties \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$config"
