# syntax=docker/dockerfile:1
# Multi-stage build: a Rust builder, then a distroless non-root runtime.
FROM rust:1-bookworm AS builder
WORKDIR /src
# Whole tree (benches/, fuzz/ may be named by Cargo.toml); .dockerignore keeps out
# target/, .git and private keys.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin datahub-scim \
 && cp target/release/datahub-scim /datahub-scim

FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="datahub-scim" \
      org.opencontainers.image.description="SCIM 2.0 provisioning gateway for DataHub" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /datahub-scim /usr/local/bin/datahub-scim
USER 65532:65532
# SCIM (TLS) and admin (/live, /ready, /metrics).
EXPOSE 8443 9464
ENTRYPOINT ["/usr/local/bin/datahub-scim"]
CMD ["serve"]
