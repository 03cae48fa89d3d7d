# syntax=docker/dockerfile:1
# Static, CGO-free binary (the embedded store is pure Go) on a distroless base.
#
# Base images are pinned by digest (the tag says what it is, the digest which
# one). The digests below could not be pulled or verified on the machine this
# was written on (no registry access): they were copied from public
# Dockerfiles that pin the same tags. Check and refresh them before a
# release with
#   docker buildx imagetools inspect golang:1.26-bookworm
#   docker buildx imagetools inspect gcr.io/distroless/static-debian12:nonroot
# and override without editing this file through the build arguments:
#   docker build --build-arg GO_IMAGE=golang:1.26-bookworm@sha256:... .
ARG GO_IMAGE=golang:1.26-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qortal-oidc ./cmd/qortal-oidc \
 && mkdir -p /out/data

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/qortal-oidc /usr/local/bin/qortal-oidc
# The embedded store and the generated key-encryption key live here; the
# image runs as nonroot (uid 65532), which must own it.
COPY --from=build --chown=65532:65532 /out/data /var/lib/qortal-oidc
COPY configs/production.example.yaml /etc/qortal-oidc/config.yaml
ENV QORTAL_OIDC_LISTEN=0.0.0.0:8080 \
    QORTAL_OIDC_DATA_DIR=/var/lib/qortal-oidc
VOLUME /var/lib/qortal-oidc
EXPOSE 8080
USER nonroot:nonroot
# Distroless has no shell or curl: the binary probes itself (GET /readyz on
# QORTAL_OIDC_LISTEN; exit 1 = unhealthy). The start period covers a
# database that comes up after the broker (start-up retries it).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/qortal-oidc", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/qortal-oidc"]
CMD ["serve", "--config", "/etc/qortal-oidc/config.yaml"]
