# syntax=docker/dockerfile:1
# Static, CGO-free binary (the embedded store is pure Go) on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qortal-oidc ./cmd/qortal-oidc \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
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
ENTRYPOINT ["/usr/local/bin/qortal-oidc"]
CMD ["serve", "--config", "/etc/qortal-oidc/config.yaml"]
