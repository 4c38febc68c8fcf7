# reShapr container image: reshapr-gateway (the entrypoint) and reshapr-ctrl.
#   docker build -t reshapr .
#   docker run -p 7777:7777 -v "$PWD/samples:/etc/reshapr/config:ro" reshapr
#   docker run -p 5555:5555 -p 5556:5556 -e RESHAPR_ADMIN_PASSWORD=... --entrypoint reshapr-ctrl reshapr
# The build stage resolves Swift packages from their public repositories.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-noble AS build
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
COPY schema schema
RUN swift build -c release --static-swift-stdlib --product reshapr-gateway \
    && swift build -c release --static-swift-stdlib --product reshapr-ctrl \
    && install -D "$(swift build -c release --show-bin-path)/reshapr-gateway" /out/reshapr-gateway \
    && install -D "$(swift build -c release --show-bin-path)/reshapr-ctrl" /out/reshapr-ctrl

FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home reshapr
COPY --from=build /out/reshapr-gateway /out/reshapr-ctrl /usr/local/bin/
COPY samples /etc/reshapr/config
ENV RESHAPR_CONFIG_DIR=/etc/reshapr/config
USER 10001
EXPOSE 7777
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:7777/health/ready || exit 1
ENTRYPOINT ["/usr/local/bin/reshapr-gateway"]
