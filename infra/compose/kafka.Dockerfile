# Apache Kafka (KRaft, one node) from the same Maven POM as the local stack (infra/kafka/pom.xml).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

COPY infra/kafka/pom.xml /opt/kafka/pom.xml
# Maven only resolves the jars; it and its cache leave in the same layer.
RUN apt-get update -qq >/dev/null \
 && apt-get install -y -qq --no-install-recommends ca-certificates openjdk-17-jre-headless maven >/dev/null \
 && mvn -q -B -f /opt/kafka/pom.xml dependency:copy-dependencies -Dkafka.lib.dir=/opt/kafka/libs \
 && apt-get purge -y -qq maven >/dev/null && apt-get autoremove -y -qq >/dev/null \
 && rm -rf /var/lib/apt/lists/* /root/.m2 \
 && ls /opt/kafka/libs/kafka_2.13-*.jar \
 && useradd --system --uid 10002 --home-dir /var/lib/kafka kafka \
 && mkdir -p /var/lib/kafka/data && chown -R kafka /var/lib/kafka

COPY infra/kafka/server.properties.template infra/kafka/log4j.properties /opt/kafka/config/
COPY infra/compose/kafka-entrypoint.sh /opt/kafka/entrypoint.sh
USER kafka
ENTRYPOINT ["/opt/kafka/entrypoint.sh"]
