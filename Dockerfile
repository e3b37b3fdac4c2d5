# The nanohttp host in a container: build the binary (with the embedded demo and static file
# server), then copy it alone into a minimal runtime image.
#
#   docker build -t nanohttp .            (or podman build)
#   docker run -p 8080:8080 -p 9090:9090 nanohttp               # the embedded demo
#   docker run -v $PWD/app.wasm:/app/app.wasm:ro -p 8080:8080 -p 9090:9090 nanohttp /app/app.wasm
#
# The application listens on 8080, the admin listener (/healthz, /readyz, /metrics) on 9090;
# both on every interface of the container, so publish only what the outside may reach.

# --- build ---------------------------------------------------------------------------------
FROM docker.io/library/rust:1.95-slim-bookworm AS build
WORKDIR /src
# rust-toolchain.toml pins 1.95.0 with the wasm32-wasip2 target (the demo is a component).
COPY . .
RUN rustup show active-toolchain && rustup target add wasm32-wasip2 \
 && cargo build --release --locked -p nanohttp-host \
 && install -D target/release/nanohttp /out/nanohttp

# --- run -----------------------------------------------------------------------------------
# glibc and libgcc only (what a Rust binary links); no shell, no package manager; uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/nanohttp /usr/local/bin/nanohttp
# The compilation cache and the default key-value file (file:$XDG_DATA_HOME/nanohttp/kv.redb):
# a writable directory the (read-only) image does not otherwise need.
ENV XDG_CACHE_HOME=/tmp XDG_DATA_HOME=/tmp
EXPOSE 8080 9090
USER nonroot
ENTRYPOINT ["/usr/local/bin/nanohttp", "-b", "0.0.0.0:8080", "--admin-bind", "0.0.0.0:9090"]
CMD ["demo"]
