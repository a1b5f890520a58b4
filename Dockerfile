# Multi-stage build of a static syncd binary on a minimal, non-root runtime.
#
# The base images are build arguments so an offline machine can substitute
# local ones (see scripts/offline-images.sh):
#   docker build --build-arg GO_IMAGE=syncd-build/go:local --build-arg RUNTIME_IMAGE=syncd-build/runtime:local .
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN go build -tags timetzdata -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/syncd ./cmd/syncd

FROM ${RUNTIME_IMAGE}
# Time-zone data for market calendars is compiled in (-tags timetzdata); CA
# certificates for the vendors' HTTPS APIs come from the runtime image. The
# runtime needs no shell: the health check is the binary itself.
COPY --from=build /out/syncd /syncd
USER 65532:65532
EXPOSE 9464 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["/syncd", "healthcheck"]
ENTRYPOINT ["/syncd"]
CMD ["run"]
