# reshapr-gateway container image.
#   docker build -t reshapr-gateway .
#   docker run -p 7777:7777 -v "$PWD/samples:/etc/reshapr/config:ro" reshapr-gateway
# The build stage resolves Swift packages from their public repositories.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-noble AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
COPY schema schema
RUN swift build -c release --static-swift-stdlib --product reshapr-gateway \
    && install -D "$(swift build -c release --show-bin-path)/reshapr-gateway" /out/reshapr-gateway

FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home reshapr
COPY --from=build /out/reshapr-gateway /usr/local/bin/reshapr-gateway
COPY samples /etc/reshapr/config
ENV RESHAPR_CONFIG_DIR=/etc/reshapr/config
USER 10001
EXPOSE 7777
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:7777/health/ready || exit 1
ENTRYPOINT ["/usr/local/bin/reshapr-gateway"]
