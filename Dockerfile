# Multi-stage build of a static syncd binary on a minimal, non-root runtime.
#
#   docker build -t syncd:local .
#
# The base images are build arguments, so a machine without a registry can
# substitute local ones. scripts/offline-images.sh does that without any Go
# image: it builds the runtime-base stage on a runtime image made from the
# host's CA certificates, then adds a static binary built on the host.
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# Everything of the final image but the binary. It comes first because the
# classic builder (no BuildKit) builds every stage up to its target: an
# offline build with --target runtime-base never touches GO_IMAGE.
FROM ${RUNTIME_IMAGE} AS runtime-base
# Time-zone data for market calendars is compiled in (-tags timetzdata); CA
# certificates for the vendors' HTTPS APIs come from the runtime image. The
# runtime needs no shell: the health check is the binary itself (/healthz; a
# container running `simulate` needs `healthcheck -addr` with its -listen).
USER 65532:65532
EXPOSE 9464 9400
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/syncd", "healthcheck"]
ENTRYPOINT ["/syncd"]
CMD ["run"]

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN go build -tags timetzdata -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/syncd ./cmd/syncd

FROM runtime-base AS runtime
COPY --from=build /out/syncd /syncd
