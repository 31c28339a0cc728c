# secretchat-lab in one image: the mock server and the reference peer.
#
#   docker build -t secretchat-lab .
#   docker compose up            # the server and two actors of a demo scenario
#
# Stage 1 builds the two binaries; stage 2 is a slim runtime with nothing but them and the
# scenario library. No TLS anywhere (plain HTTP, and MTProto over plain TCP), so no OpenSSL.

# The toolchain the project is developed and tested with (workspace rust-version is the
# floor: the locked dependencies need 1.88 or newer).
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p secretchat-server -p secretchat-peer \
 && cp target/release/secretchat-server target/release/secretchat-peer /usr/local/bin/

FROM debian:bookworm-slim
RUN useradd --system --user-group --no-create-home secretchat
COPY --from=build /usr/local/bin/secretchat-server /usr/local/bin/secretchat-peer /usr/local/bin/
COPY scenarios /scenarios
USER secretchat
# The client API and the MTProto door (the admin surface, 8081, stays on the container's loopback).
EXPOSE 8080 8443
CMD ["secretchat-server"]
