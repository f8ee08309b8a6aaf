# slicegate and slicectl on Debian 12, the distribution whose packages the code is written for
# (CAF 0.17.6, libpqxx 6.4, nats.c 3.4.1). Used by compose.yaml:
#
#   docker build -t slicegate .
#   docker run --rm slicegate --help

# ---- build ------------------------------------------------------------------------------------
FROM debian:12 AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        cmake g++ make pkg-config \
        libcaf-dev libpqxx-dev libnats-dev nlohmann-json3-dev libcrypt-dev libboost-test-dev \
        libspdlog-dev libcurl4-openssl-dev libcli11-dev libssl-dev libncurses-dev \
        libcpp-httplib-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build -j2 --target slicegate slicectl

# The admin dashboard: one bundle from the npm lockfile, installed beside the binaries (where
# slicegate looks for it by default).
RUN cd dashboard && npm ci --no-audit --no-fund && npm run build \
 && mkdir -p /out/dashboard && cp -r dist/. /out/dashboard/

# Collect the two binaries wherever the build tree puts them.
RUN mkdir -p /out \
 && for b in slicegate slicectl; do \
        f=$(find build -type f -name "$b" -perm -u+x | head -n 1); \
        test -n "$f" || { echo "binary $b not found in build/" >&2; exit 1; }; \
        install -m 0755 "$f" "/out/$b"; \
    done

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:12-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libcaf-core0.17 libcaf-io0.17 libpqxx-6.4 libnats3.4 libspdlog1.10 libfmt9 \
        libcurl4 libcrypt1 libssl3 libncursesw6 libcpp-httplib0.11 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /out/slicegate /out/slicectl /usr/local/bin/
COPY --from=build /out/dashboard /usr/local/bin/dashboard

# Fail the image build, not the first start, when a shared library is missing.
RUN ! ldd /usr/local/bin/slicegate /usr/local/bin/slicectl | grep 'not found'

# Runs unprivileged. The `docker` slice runtime needs the Docker socket: mount
# /var/run/docker.sock and add its group (compose: group_add).
RUN useradd --system --home-dir /var/lib/slicegate --create-home --shell /usr/sbin/nologin slicegate
USER slicegate
WORKDIR /var/lib/slicegate

ENTRYPOINT ["slicegate"]
CMD ["serve"]
