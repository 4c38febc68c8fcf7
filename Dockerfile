# reShapr container image: reshapr-gateway, reshapr-sync, reshapr-ctrl and the reshapr CLI.
#
#   docker build -t reshapr .
#   # The gateway on a mounted (GitOps, ConfigMap) directory:
#   docker run -p 7777:7777 -v "$PWD/samples:/etc/reshapr/config:ro" reshapr
#   # The gateway synchronized with a control plane (the hybrid-deployment guide's command):
#   docker run -p 7777:7777 -e RESHAPR_CTRL_HOST=ctrl.example.com -e RESHAPR_CTRL_TOKEN=... \
#       -e RESHAPR_GATEWAY_ID=gw-1 -e RESHAPR_GATEWAY_LABELS=env=prod reshapr
#   # The control plane, and the CLI:
#   docker run -p 5555:5555 -p 5556:5556 -e RESHAPR_ADMIN_PASSWORD=... -v reshapr-db:/var/lib/reshapr reshapr reshapr-ctrl
#   docker run --rm -it reshapr reshapr --help
#
# No Docker engine runs where this is developed: scripts/check-release.sh runs this file's
# build commands and the entrypoint against the release binaries on the host instead.
ARG SWIFT_VERSION=6.3
FROM swift:${SWIFT_VERSION}-noble AS build
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources Sources
COPY Tests Tests
COPY schema schema
COPY scripts/build-release.sh scripts/
RUN scripts/build-release.sh /out

# The binaries need only libc, libstdc++ and zlib (SQLite is built in): scripts/check-release.sh
# checks that list against ldd.
FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl zlib1g libjavascriptcoregtk-4.1-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/reshapr reshapr \
    && install -d -o 10001 -g 10001 /var/lib/reshapr /var/lib/reshapr/config
COPY --from=build /out/ /usr/local/bin/
COPY docker/entrypoint.sh /usr/local/bin/reshapr-entrypoint
COPY samples /etc/reshapr/config
ENV RESHAPR_CONFIG_DIR=/etc/reshapr/config \
    RESHAPR_CTRL_DB=/var/lib/reshapr/reshapr-ctrl.sqlite \
    RESHAPR_LOG_FORMAT=logfmt
USER 10001:10001
WORKDIR /var/lib/reshapr
EXPOSE 7777
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD curl -fsS http://127.0.0.1:7777/health/ready || exit 1
ENTRYPOINT ["/usr/local/bin/reshapr-entrypoint"]
