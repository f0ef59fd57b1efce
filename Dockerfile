# syntax=docker/dockerfile:1
# teamsync's container image (docs/install.md, "Container image"): a static musl binary, CA
# certificates (rustls-platform-verifier reads the system's), nothing else; runs as non-root.
#
#   docker build -t teamsync .                       # builds teamsync from this checkout
#   docker run --rm -v "$PWD:/work" -e SCALING_API_KEY teamsync plan
#
# The release workflow builds the image from the release's own binaries instead, with
# `--build-arg BINARY_FROM=prebuilt` and dist/linux-{amd64,arm64}/teamsync in the context, so
# the image holds exactly the binary of the release archive (and no emulated compile).
#
# Alpine is pinned to one release (3.23) and each apk package to its version line there (`=~`:
# that major.minor, any patch or rebuild), so a rebuild gets the branch's security fixes but
# never another line; hadolint checks it (scripts/lint-ci). Moving to a newer Alpine means
# changing the three lines together.

ARG BINARY_FROM=source

# ---- from source: native musl on Alpine ----------------------------------------------------------
FROM rust:1-alpine3.23 AS source
# A C toolchain for ring (rustls' crypto; a few C and assembly files), as Alpine 3.23 ships it.
RUN apk add --no-cache build-base=~0.5
WORKDIR /src
COPY . .
# The commit for `teamsync --version` (.git is not in the context): pass them as build args.
ARG TEAMSYNC_COMMIT_HASH=""
ARG TEAMSYNC_COMMIT_DATE=""
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    TEAMSYNC_COMMIT_HASH="$TEAMSYNC_COMMIT_HASH" TEAMSYNC_COMMIT_DATE="$TEAMSYNC_COMMIT_DATE" \
    cargo build --release --locked --bin teamsync \
    && install -D -m 755 target/release/teamsync /out/teamsync

# ---- prebuilt: the release's binary for the image's platform --------------------------------------
FROM scratch AS prebuilt
ARG TARGETARCH
COPY --chmod=755 dist/linux-${TARGETARCH}/teamsync /out/teamsync

FROM ${BINARY_FROM} AS binary

# ---- CA certificates (the file is the same for every platform) ----------------------------------
# Alpine's base image already holds the bundle (the ca-certificates-bundle package that apk itself
# needs): nothing to install.
FROM --platform=$BUILDPLATFORM alpine:3.23 AS certs

# ---- the image -------------------------------------------------------------------------------------
FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=binary /out/teamsync /usr/local/bin/teamsync
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PATH=/usr/local/bin
# A numeric non-root user: scratch has no /etc/passwd.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["teamsync"]
CMD ["--help"]
