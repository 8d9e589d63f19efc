# syntax=docker/dockerfile:1
#
# zktrust aggregator (and `zktrust worker`, same image): README, "Container".
#
#   docker build -t zktrust .
#   docker run -d --name zktrust -p 8080:8080 -v zktrust-data:/data zktrust
#
# The production circuits and the native addons are built here, so a container starts without
# compiling; the deployment's own Groth16 keys are made on its first start, into /data.
#
# For reproducible builds pin the base image by digest as well as by tag, e.g.
#   ARG NODE_IMAGE=node:20-bookworm-slim@sha256:<digest of the tag when you adopt it>
ARG NODE_IMAGE=node:20-bookworm-slim
# The circuit configuration compiled into the image (circuits/circuits.json); the service
# compiles another one named by ZKTRUST_CIRCUITS on its first start, into build/.
ARG CIRCUITS=production

FROM ${NODE_IMAGE} AS build
ARG CIRCUITS
# gcc and libc6-dev: the native addons (src/native/addon.ts; Node's headers come with the
# image). g++, make, python3: node-gyp, should a dependency find no prebuilt binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc g++ libc6-dev make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY circuits ./circuits
COPY artifacts ./artifacts
COPY native ./native
# The build's second step: the observatory page, bundled into dist/observatory/.
COPY scripts/build-observatory.mjs ./scripts/
# All dependencies, for the package build (npm ci runs "prepare": tsc into dist/, then the page).
RUN npm ci --no-audit --no-fund
# Compiles the circuits (checked against artifacts/manifest.json) and the addons into build/,
# with the built command line, as the image runs it.
RUN node dist/src/cli/main.js build --config "${CIRCUITS}"
# Production dependencies only in the image: typescript, tsx and the test tools go.
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# util-linux: chrt, so that provers run under SCHED_IDLE (src/prover/prover-process.ts).
# tini: PID 1, forwards SIGTERM to node and reaps the prover processes' orphans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 zktrust \
 && useradd --system --uid 10001 --gid zktrust --home-dir /data --no-create-home --shell /usr/sbin/nologin zktrust \
 && mkdir -p /data \
 && chown zktrust:zktrust /data
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    ZKTRUST_DATA_DIR=/data
# The application is root's and read-only to the service; build/ is the service's, so that it
# can compile another circuit configuration on first start.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
COPY --from=build /app/circuits ./circuits
COPY --from=build /app/artifacts ./artifacts
COPY --from=build /app/native ./native
COPY --from=build --chown=zktrust:zktrust /app/build ./build
USER 10001:10001
# The LevelDB store, aggregator key, admin token, local keys and snapshots (a worker: its key cache).
VOLUME ["/data"]
EXPOSE 8080
# Liveness (200 from the first second, also while the first start makes its keys). Readiness is
# GET /v1/ready, for a load balancer: it stays 503 while no worker is connected to Redis.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# serve and worker close gracefully on SIGTERM (src/cli/main.ts); allow them time: docker stop -t 60.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/zktrust.js"]
CMD ["serve"]
